const { open, text, tap } = require('../support/page')
const { signIn } = require('../support/wx')
const session = require('../../utils/session')

describe('home', () => {
  test('a first launch logs in with wx.login and shows what residents can do', async () => {
    const page = await open('pages/index/index')
    expect(session.user().kind).toBe('resident')
    expect(text(page)).toContain('反映问题')
    expect(text(page)).toContain('微心愿')
    expect(text(page)).not.toContain('值班收件箱')
    await tap(page, '.entry')
    expect(wx.navigations).toEqual(['/pages/resident/report/report'])
    await tap(page, '.bind-link')
    expect(wx.navigations[1]).toBe('/pages/bind/bind')
  })

  test('staff see their entries and the inbox count as a badge', async () => {
    signIn(wx, 'staff')
    const page = await open('pages/index/index')
    expect(text(page)).toContain('赵值班，您好')
    expect(text(page)).toContain('值班收件箱')
    expect(text(page)).toContain('超时告警')
    expect(page.querySelector('.badge').dom.textContent).toBe('2')
    expect(wx.calls.badge).toBe('2')
  })
})

describe('bind', () => {
  beforeEach(() => signIn(wx, 'pending'))

  test('an empty code is refused on the page', async () => {
    const page = await open('pages/bind/bind')
    await tap(page, '.submit')
    expect(text(page)).toContain('请输入邀请码')
    expect(wx.server.calls).toHaveLength(0)
  })

  test('a wrong code shows the server reason under the field', async () => {
    const page = await open('pages/bind/bind')
    wx.server.answer('bind_bad_code')
    page.querySelector('.code').dispatchEvent('input', { detail: { value: 'wrong 234' } })
    await tap(page, '.submit')
    expect(wx.server.last('POST', '/auth/bind').body).toEqual({ invite_code: 'WRONG234' })
    expect(page.querySelector('.field-error').dom.textContent).toBe('邀请码无效、已使用或已过期')
  })

  test('a good code makes this WeChat a staff login', async () => {
    const page = await open('pages/bind/bind')
    page.querySelector('.code').dispatchEvent('input', { detail: { value: 'k7pm2qxa' } })
    await tap(page, '.submit')
    expect(session.user()).toMatchObject({ kind: 'staff', name: '赵值班' })
    expect(wx.navigations).toEqual(['/pages/index/index'])
  })
})
