const { open, text, tap, flush } = require('../support/page')
const { signIn } = require('../support/wx')
const { entry } = require('../support/fake-server')

const AT = Date.parse('2026-11-17T10:31:00+08:00')

async function tapSecondDay(page) {
  page.querySelectorAll('.day')[1].dispatchEvent('tap')
  await flush()
}

function resident() {
  signIn(wx, 'resident')
  wx.setStorageSync('linli.community_id', 1)
}

describe('代办 catalogue', () => {
  test('items with the materials to bring, and a way to book', async () => {
    resident()
    const page = await open('pages/resident/proxy/proxy')
    expect(page.querySelectorAll('.item')).toHaveLength(18)
    expect(text(page)).not.toContain('老人身份证原件及复印件')
    await tap(page, '#item-zunlaojin .item-head')
    expect(text(page)).toContain('老人身份证原件及复印件')
    await tap(page, '#item-zunlaojin .book')
    expect(wx.navigations).toEqual(['/pages/resident/book/book?key=zunlaojin'])
  })

  test('without a community it asks for one', async () => {
    signIn(wx, 'resident')
    const page = await open('pages/resident/proxy/proxy')
    expect(text(page)).toContain('请先在「我的」里选择所在社区')
  })
})

describe('book a slot', () => {
  beforeEach(() => {
    jest.useFakeTimers({ now: AT })
    resident()
  })
  afterEach(() => jest.useRealTimers())

  test("today's free slots; booking one shows the booking code", async () => {
    const page = await open('pages/resident/book/book', { key: 'zunlaojin' })
    expect(page.querySelectorAll('.slot')).toHaveLength(8)
    expect(text(page)).toContain('11:00–11:30')
    await tap(page, '.choose')
    const call = wx.server.last('POST', '/my/bookings')
    expect(call.body).toMatchObject({ service_key: 'zunlaojin', station_id: 1, slot_start: '2026-11-17T11:00:00+08:00' })
    expect(call.body.idempotency_key).toMatch(/^book-/)
    expect(wx.shown.pop().text).toContain(`预约码 ${entry('book').response.code}`)
    expect(wx.navigations).toEqual(['/pages/resident/bookings/bookings'])
  })

  test('another day; a second booking is refused with the reason', async () => {
    const page = await open('pages/resident/book/book', { key: 'zunlaojin' })
    await tapSecondDay(page)
    expect(wx.server.last('GET', '/slots').query).toEqual({ date: '2026-11-18' })
    expect(page.querySelectorAll('.slot')).toHaveLength(13)
    wx.server.answer('book_again')
    await tap(page, '.choose')
    expect(wx.shown.find(s => s.kind === 'modal').text).toMatch(/^您已预约“尊老金申领”/)
  })

  test('rescheduling moves the booking', async () => {
    const code = entry('reschedule').path.split('/')[5]
    const page = await open('pages/resident/book/book', { code })
    await tapSecondDay(page)
    await tap(page, '.choose')
    expect(wx.server.last('POST', '/reschedule').body).toEqual({ slot_start: '2026-11-18T08:30:00+08:00' })
    expect(wx.shown.pop().title).toBe('已改约')
  })
})

describe('my bookings and cases', () => {
  beforeEach(() => signIn(wx, 'resident'))

  test('bookings with materials and actions, cases with progress', async () => {
    const page = await open('pages/resident/bookings/bookings')
    expect(page.querySelectorAll('.booking')).toHaveLength(2)
    expect(text(page)).toContain('已转交街道民政科审批')
    await tap(page, '.reschedule')
    expect(wx.navigations[0]).toMatch(/^\/pages\/resident\/book\/book\?code=\w+$/)
  })

  test('cancel asks first, then frees the slot', async () => {
    const page = await open('pages/resident/bookings/bookings')
    wx.next.modal.push({ confirm: false, cancel: true })
    await tap(page, '.cancel')
    expect(wx.server.calls.filter(c => c.method === 'POST')).toHaveLength(0)
    await tap(page, '.cancel')
    expect(wx.server.last('POST', '/cancel')).toBeTruthy()
    expect(wx.shown.pop()).toEqual({ kind: 'toast', text: '已取消' })
  })
})
