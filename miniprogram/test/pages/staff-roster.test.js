const { open, text, tap } = require('../support/page')
const { signIn } = require('../support/wx')
const { entry } = require('../support/fake-server')

describe('roster', () => {
  beforeEach(() => signIn(wx, 'staff'))

  test('who is on duty now, my shifts and the gaps', async () => {
    const page = await open('pages/staff/roster/roster')
    expect(text(page)).toContain('值班长：李建国（00:00–24:00）')
    expect(text(page)).toContain('近期没有您的班次')
    expect(page.querySelectorAll('.shift')).toHaveLength(14)
    expect(text(page)).toContain('无人值班的时段')
  })

  test('the admin swaps two shifts by tapping them', async () => {
    const swap = entry('roster_swap')
    const page = await open('pages/staff/roster/roster')
    await tap(page, `#shift-${swap.body.shift_id}`)
    expect(page.instance.data.picked).toBe(swap.body.shift_id)
    page.querySelector('.reason').dispatchEvent('input', { detail: { value: '家中有事，与同事换班' } })
    await tap(page, `#shift-${swap.body.with_shift_id}`)
    expect(wx.server.last('POST', '/roster/swap').body).toEqual(swap.body)
    expect(wx.shown.pop()).toEqual({ kind: 'toast', text: '已换班' })
    const moved = page.instance.data.week.find(s => s.id === swap.body.shift_id)
    expect(moved.staff.name).toBe(swap.response.shifts[0].staff.name)
  })
})

describe('alerts', () => {
  test('the reply rate and each alert with its recipients', async () => {
    signIn(wx, 'staff')
    const page = await open('pages/staff/alerts/alerts')
    expect(text(page)).toContain('1 小时内回复率：67%')
    expect(text(page)).toContain('已超时')
    expect(text(page)).toContain('→ 李建国：发送中')
    await tap(page, '.alert')
    expect(wx.navigations[0]).toMatch(/request\?id=\d+/)
  })
})
