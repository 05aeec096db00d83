const { open, text, tap } = require('../support/page')
const { signIn } = require('../support/wx')
const { entry } = require('../support/fake-server')

describe('staff events', () => {
  beforeEach(() => signIn(wx, 'staff'))

  test('upcoming events with places and waiting list', async () => {
    const page = await open('pages/staff/events/events')
    expect(text(page)).toContain('垃圾分类宣传志愿服务')
    expect(text(page)).toContain('候补 1')
    await tap(page, '.event')
    expect(wx.navigations[0]).toMatch(/^\/pages\/staff\/event\/event\?id=\d+$/)
  })

  test('the sign-up list puts the waiting list after the confirmed, in order', async () => {
    const id = entry('event_create_small').response.id
    const page = await open('pages/staff/event/event', { id: String(id) })
    const labels = page.instance.data.items.map(s => s.statusLabel)
    expect(labels).toEqual(['已报名', '候补第 1 位'])
    expect(text(page)).toContain('候补 1')
  })

  test("scanning a resident's code checks them in once, with a nonce", async () => {
    const id = entry('event_create').response.id
    const page = await open('pages/staff/event/event', { id: String(id) })
    wx.next.scanCode.push(entry('checkin_code').response.code)
    await tap(page, '.scan')
    const call = wx.server.last('POST', '/checkin')
    expect(call.body.code).toBe(entry('checkin_code').response.code)
    expect(call.body.nonce).toMatch(/^scan-/)
    expect(wx.shown.find(s => s.kind === 'toast').text).toMatch(/签到成功$/)
  })

  test('a bad code is refused in Chinese', async () => {
    const id = entry('event_create').response.id
    const page = await open('pages/staff/event/event', { id: String(id) })
    wx.server.answer('event_checkin_bad')
    wx.next.scanCode.push('not-a-code')
    await tap(page, '.scan')
    expect(wx.shown.pop().text).toBe('签到码无效')
  })
})
