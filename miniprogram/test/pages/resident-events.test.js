const { open, text, tap, flush } = require('../support/page')
const { signIn } = require('../support/wx')
const { entry } = require('../support/fake-server')

function resident() {
  signIn(wx, 'resident')
  wx.setStorageSync('linli.community_id', 1)
}

describe('events', () => {
  beforeEach(resident)

  test('upcoming events with the places left', async () => {
    const page = await open('pages/resident/events/events')
    expect(page.querySelectorAll('.event')).toHaveLength(11)
    expect(text(page)).toContain('四点半课堂')
    expect(text(page)).toContain('剩余 20 个名额')
  })

  test('sign up with an idempotency key', async () => {
    const page = await open('pages/resident/events/events')
    await tap(page, '.signup')
    const call = wx.server.last('POST', '/signup')
    expect(call.body.idempotency_key).toMatch(/^signup-/)
    expect(wx.shown.find(s => s.kind === 'toast').text).toBe('报名成功')
  })

  test('a full event offers the waiting list and tells the position', async () => {
    const id = entry('event_create_small').response.id
    const page = await open('pages/resident/events/events')
    wx.server.answer('event_signup_full', 'event_signup_waitlist')
    page.instance.send(id, false)
    await flush()
    expect(wx.shown[0].text).toContain('名额已满，可以排队候补')
    expect(wx.server.last('POST', '/signup').body.waitlist).toBe(true)
    expect(wx.shown.find(s => s.kind === 'toast').text).toBe('已候补第1位')
  })

  test('my sign-ups show the waiting position and open the check-in code', async () => {
    const page = await open('pages/resident/signups/signups')
    expect(text(page)).toContain('候补第 1 位')
    expect(text(page)).toContain('已报名')
    await tap(page, '.code')
    expect(wx.navigations[0]).toMatch(/^\/pages\/resident\/checkin\/checkin\?signup=\d+$/)
  })
})

describe('check-in code', () => {
  beforeEach(resident)

  test('shows the signed code as a QR code and fetches a fresh one before it expires', async () => {
    jest.useFakeTimers({ now: Date.parse('2026-11-17T10:31:00+08:00') })
    const signup = entry('checkin_code').response.signup_id
    const page = await open('pages/resident/checkin/checkin', { signup: String(signup) })
    expect(text(page)).toContain('请向工作人员出示签到码')
    expect(text(page)).toContain('10:36 前有效')
    expect(page.instance.data.code).toBe(entry('checkin_code').response.code)
    const before = wx.server.calls.length
    jest.advanceTimersByTime(4.5 * 60 * 1000)
    await flush()
    expect(wx.server.calls.length).toBe(before + 1)
    page.instance.onUnload()
    jest.useRealTimers()
  })

  test('a waiting sign-up has no code yet, and says why', async () => {
    const waiting = entry('checkin_code_waiting')
    const page = await open('pages/resident/checkin/checkin', { signup: waiting.path.split('/')[5] })
    expect(text(page)).toContain('您还在候补名单上，转为正式报名后才有签到码')
  })
})

