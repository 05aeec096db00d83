// utils/api.js against the recorded answers of the real API.
const api = require('../utils/api')
const session = require('../utils/session')
const { signIn } = require('./support/wx')
const { TOKENS, ENTRIES, entry } = require('./support/fake-server')

describe('login', () => {
  test('wx.login code → resident token and user kept in storage', async () => {
    const user = await api.login()
    expect(user.kind).toBe('resident')
    expect(session.token()).toBe(TOKENS.resident)
    expect(wx.server.last('POST', '/auth/login').body).toEqual({ code: 'code-resident-1' })
  })

  test('a bound WeChat logs in as staff with its roles', async () => {
    wx.next.loginCode = 'code-staff-2'
    const user = await api.login()
    expect(user.kind).toBe('staff')
    expect(user.roles).toEqual(['community_admin', 'duty'])
    expect(session.isStaff()).toBe(true)
    expect(session.hasRole('community_admin')).toBe(true)
  })

  test('binding an invite code swaps the token for a staff one', async () => {
    signIn(wx, 'pending')
    const user = await api.bind('K7PM2QXA')
    expect(user.kind).toBe('staff')
    expect(wx.server.calls[0].entry).toBe('bind')
    expect(session.token()).toBe(entry('bind').response.token)
  })

  test('a wrong invite code is a Chinese error naming the field', async () => {
    signIn(wx, 'pending')
    wx.server.answer('bind_bad_code')
    const err = await api.bind('WRONG234').catch(e => e)
    expect(err).toBeInstanceOf(api.ApiError)
    expect(err).toMatchObject({ status: 400, code: 'invalid', field: 'invite_code', message: '邀请码无效、已使用或已过期' })
  })
})

describe('calls', () => {
  test('the bearer token goes with every authenticated call', async () => {
    signIn(wx, 'staff')
    const page = await api.call('inbox', { per_page: 50 })
    expect(page.total).toBe(2)
    expect(wx.server.calls[0].header.Authorization).toBe(`Bearer ${TOKENS.staff}`)
    expect(wx.server.calls[0].path).toBe('/api/v1/inbox')
  })

  test('public calls carry no token', async () => {
    signIn(wx, 'resident')
    await api.call('catalogue', { community_id: 1 })
    expect(wx.server.calls[0].header.Authorization).toBeUndefined()
  })

  test('an expired token logs in again once and repeats the call', async () => {
    wx.setStorageSync('linli.token', 'expired-token')
    const me = await api.call('me')
    expect(me.kind).toBe('resident')
    expect(wx.server.calls.map(c => c.entry)).toEqual(['unauthorized', 'login_resident', 'me_resident'])
  })

  test('path parameters are filled in and query strings built from declared names only', async () => {
    signIn(wx, 'resident')
    const day = await api.call('slots', { station_id: 1, date: '2026-11-18' })
    expect(day.slots).toHaveLength(13)
    expect(wx.server.calls[0].query).toEqual({ date: '2026-11-18' })
    await expect(api.call('slots', { station_id: 1, colour: 'red' })).rejects.toThrow('takes no query parameter colour')
    await expect(api.call('slots', { date: '2026-11-18' })).rejects.toThrow('missing path parameter station_id')
  })

  test('a field the table does not declare is never sent', async () => {
    signIn(wx, 'resident')
    await expect(api.call('rate', { request_id: 1 }, { rating: 'satisfied', stars: 5 })).rejects.toThrow('field stars')
    expect(wx.server.calls).toHaveLength(0)
  })

  test('a missing required field is refused before sending, in Chinese', async () => {
    signIn(wx, 'staff')
    const err = await api.call('requestReject', { request_id: 2 }, { reason: '  ' }).catch(e => e)
    expect(err).toMatchObject({ code: 'missing', field: 'reason', message: '请填写原因' })
    expect(wx.server.calls).toHaveLength(0)
  })

  test('a conflict keeps its code and extra fields; the message is the Chinese part', async () => {
    signIn(wx, 'resident')
    wx.server.answer('book_again')
    const err = await api.call('book', {}, { service_key: 'zunlaojin', station_id: 1,
      slot_start: '2026-11-18T08:30:00+08:00', idempotency_key: 'k' }).catch(e => e)
    expect(err.status).toBe(409)
    expect(err.code).toBe('already_booked')
    expect(err.extra.booking_code).toBe(entry('book').response.code)
    expect(err.message).toMatch(/^您已预约/)
  })

  test('a state conflict answers the server reason without the English part', async () => {
    signIn(wx, 'staff')
    wx.server.answer('request_start_rejected')
    const second = entry('report_second').response
    const err = await api.call('requestStart', { request_id: second.id }).catch(e => e)
    expect(err.code).toBe('invalid_transition')
    expect(err.message).toBe(`诉求${second.code}当前状态为「不予受理」，不能开始处理`)
  })

  test('no network is a Chinese message, not a crash', async () => {
    signIn(wx, 'resident')
    wx.request = options => options.fail({ errMsg: 'request:fail timeout' })
    const err = await api.call('myRequests').catch(e => e)
    expect(err).toMatchObject({ status: 0, code: 'network', message: '网络连接失败，请检查网络后重试' })
  })

  test('showError shows the message in a modal', () => {
    api.showError(new api.ApiError({ status: 409, code: 'full', message: '名额已满' }))
    expect(wx.shown).toEqual([{ kind: 'modal', title: '提示', text: '名额已满' }])
  })
})

describe('messages', () => {
  test('every recorded error body has a code and a Chinese message the app can show', () => {
    const errors = ENTRIES.filter(e => e.status >= 400)
    expect(errors.length).toBeGreaterThan(10)
    errors.forEach(e => {
      expect(e.response.error.code).toEqual(expect.any(String))
      expect(api.chineseMessage(e.response.error.message)).toMatch(/[\u4e00-\u9fff]/)
    })
  })

  test('the English detail in parentheses is dropped', () => {
    expect(api.chineseMessage('请先登录 (missing, expired or invalid bearer token)')).toBe('请先登录')
    expect(api.chineseMessage('签到码无效')).toBe('签到码无效')
  })
})
