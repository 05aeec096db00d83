const { open, text, tap } = require('../support/page')
const { signIn } = require('../support/wx')

describe('profile', () => {
  test('staff see who they are signed in as and can sign out', async () => {
    signIn(wx, 'staff')
    const page = await open('pages/profile/profile')
    expect(text(page)).toContain('赵值班')
    expect(text(page)).toContain('13900000199')
    await tap(page, '.logout')
    expect(wx.getStorageSync('linli.token')).toBe('')
    expect(wx.navigations).toEqual(['/pages/index/index'])
  })

  test.todo('a resident sees their own name and phone unmasked and picks community and building (GET/PATCH /my/profile)')
  test.todo('getPhoneNumber sends the one-time phone_code')
})
