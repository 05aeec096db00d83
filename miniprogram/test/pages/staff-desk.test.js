const { open, text, tap } = require('../support/page')
const { signIn } = require('../support/wx')
const { entry } = require('../support/fake-server')

const AT = Date.parse('2026-11-17T10:31:00+08:00')

describe("today's proxy-handling desk", () => {
  beforeEach(() => {
    jest.useFakeTimers({ now: AT })
    signIn(wx, 'staff')
  })
  afterEach(() => jest.useRealTimers())

  test("today's bookings, counts and cases", async () => {
    const page = await open('pages/staff/desk/desk')
    expect(wx.server.last('GET', '/bookings').query).toEqual({ date: '2026-11-17' })
    expect(text(page)).toContain('政务代办站 · 2026-11-17')
    expect(text(page)).toContain('尊老金申领')
    expect(text(page)).toContain(`预约码 ${entry('book').response.code}`)
    expect(page.querySelectorAll('.case')).toHaveLength(1)
  })

  test('scanning the booking code picks the booking; check-in is one tap', async () => {
    const code = entry('book').response.code
    const page = await open('pages/staff/desk/desk')
    wx.next.scanCode.push(code.toLowerCase())
    await tap(page, '.scan')
    expect(page.instance.data.selected).toBe(entry('book').response.id)
    await tap(page, '.check-in')
    expect(wx.server.calls.some(c => c.entry === 'desk_check_in')).toBe(true)
    expect(wx.shown.find(s => s.kind === 'toast').text).toBe('已签到')
  })

  test('an unknown code says so', async () => {
    const page = await open('pages/staff/desk/desk')
    wx.next.scanCode.push('ZZZZZZ')
    await tap(page, '.scan')
    expect(wx.shown.pop().text).toBe('今天没有预约码为 ZZZZZZ 的预约')
  })

  test('a checked-in resident: accept the materials, then move the case on', async () => {
    wx.server.answer('desk_check_in')
    const page = await open('pages/staff/desk/desk')
    wx.server.answer('desk_bookings')
    expect(page.querySelector('.complete')).toBeFalsy()
    page.setData({ bookings: page.instance.data.bookings.map(b => Object.assign({}, b, { status: 'checked_in' })) })
    await tap(page, '.complete')
    expect(wx.server.last('POST', '/complete').body).toEqual({ note: '材料已收齐，窗口受理' })
    await tap(page, '.step-forwarded')
    expect(wx.server.last('POST', '/transitions').body).toEqual({ status: 'forwarded' })
    expect(text(page)).toContain('已转交部门')
  })
})
