const { open, text, tap, input, flush } = require('../support/page')
const { signIn } = require('../support/wx')

describe('staff inbox', () => {
  beforeEach(() => signIn(wx, 'staff'))

  test('lists open clocks most urgent first with a live countdown and the count', async () => {
    jest.useFakeTimers({ now: Date.parse('2026-11-17T09:30:00+08:00') })
    const page = await open('pages/staff/inbox/inbox')
    expect(text(page)).toContain('3栋2单元楼道灯坏了')
    expect(text(page)).toContain('剩 1:00:00')
    expect(page.instance.data.total).toBe(2)
    expect(wx.calls.title).toBe('值班收件箱（2）')
    jest.advanceTimersByTime(3000)
    await flush()
    expect(text(page)).toContain('剩 59:57')
    page.instance.onUnload()
    jest.useRealTimers()
  })

  test('one tap posts a quick public reply and the clock leaves the list', async () => {
    const page = await open('pages/staff/inbox/inbox')
    await tap(page, '.reply-open')
    await tap(page, '.quick')
    const call = wx.server.last('POST', '/inbox/1/reply')
    expect(call.body).toEqual({ text: '收到，已通知网格员尽快上门查看。' })
    expect(page.instance.data.items.map(i => i.id)).toEqual([2])
    expect(wx.shown.pop()).toEqual({ kind: 'toast', text: '已公开回复' })
    page.instance.onUnload()
  })

  test('a clock someone else answered shows why in Chinese', async () => {
    const page = await open('pages/staff/inbox/inbox')
    wx.server.answer('inbox_reply_again')
    await tap(page, '.reply-open')
    await input(page, '.draft', '收到')
    await tap(page, '.send')
    expect(wx.shown.find(s => s.kind === 'modal').text).toBe('这条诉求已由赵值班回复')
    page.instance.onUnload()
  })

  test('an overdue clock is marked', async () => {
    wx.server.answer('inbox_overdue')
    const page = await open('pages/staff/inbox/inbox')
    expect(page.querySelector('.overdue')).toBeTruthy()
    expect(text(page)).toMatch(/已超时 \d+ 分钟/)
    page.instance.onUnload()
  })
})
