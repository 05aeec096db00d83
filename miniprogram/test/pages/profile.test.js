const { open, text, tap, input, flush } = require('../support/page')
const { signIn } = require('../support/wx')
const { entry } = require('../support/fake-server')

async function fire(page, selector, event, detail) {
  page.querySelector(selector).dispatchEvent(event, { detail })
  await flush()
}

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

  test('a new resident picks their community and building and saves name and phone (PATCH /my/profile)', async () => {
    signIn(wx, 'resident')
    const page = await open('pages/profile/profile')
    expect(page.instance.data.communityIndex).toBe(-1)
    expect(text(page)).toContain('请选择所在社区')
    const community = entry('communities').response.items.findIndex(c => c.name === '富强新村社区')
    await fire(page, '.community-picker', 'change', { value: community })
    expect(wx.server.last('GET', '/buildings')).toBeTruthy()
    const buildings = entry('buildings').response.items
    await fire(page, '.building-picker', 'change', { value: 2 })
    expect(text(page)).toContain(buildings[2].name)
    await input(page, '.name', '王秀英')
    await input(page, '.phone', '13912345678')
    await input(page, '.unit', '2')
    await input(page, '.room', '501')
    await tap(page, '.save')
    expect(wx.server.last('PATCH', '/my/profile').body).toEqual({
      name: '王秀英', phone: '13912345678', unit: '2', room: '501',
      community_id: entry('communities').response.items[community].id, building_id: buildings[2].id })
    expect(wx.shown.pop()).toEqual({ kind: 'toast', text: '已保存' })
    // The report page now knows the community without asking again.
    expect(wx.getStorageSync('linli.user').community_id).toBe(entry('communities').response.items[community].id)
  })

  test('the resident sees their own name and phone unmasked', async () => {
    signIn(wx, 'resident')
    wx.server.answer('profile', 'buildings')
    const page = await open('pages/profile/profile')
    expect(page.instance.data.form.name).toBe('王秀英')
    expect(text(page)).toContain(entry('profile').response.community.name)
    expect(page.instance.data.form.phone).toBe('13800138000')
    expect(page.instance.data.buildingIndex).toBeGreaterThanOrEqual(0)
  })

  test('a phone number the server refuses is shown under the phone field', async () => {
    signIn(wx, 'resident')
    const page = await open('pages/profile/profile')
    await input(page, '.name', '王秀英')
    await input(page, '.phone', '12345')
    await tap(page, '.save')
    expect(text(page)).toContain('请填写11位手机号或带区号的固定电话')
    expect(wx.server.last('PATCH', '/my/profile')).toBeFalsy()
    wx.server.answer('profile_bad_phone')
    await input(page, '.phone', '13912345678')
    await tap(page, '.save')
    expect(wx.server.last('PATCH', '/my/profile').body.phone).toBe('13912345678')
    expect(page.querySelector('.phone-error').dom.textContent).toContain('请填写11位手机号')
  })

  test('getPhoneNumber sends the one-time phone_code and shows the number WeChat verified', async () => {
    signIn(wx, 'resident')
    const page = await open('pages/profile/profile')
    wx.server.answer('profile_phone_code')
    await fire(page, '.get-phone', 'getphonenumber', { code: 'phone-code-1', errMsg: 'getPhoneNumber:ok' })
    expect(wx.server.last('PATCH', '/my/profile').body).toEqual({ phone_code: 'phone-code-1' })
    expect(page.instance.data.form.phone).toBe('13800138000')
    wx.server.answer('profile_phone_code_used')
    await fire(page, '.get-phone', 'getphonenumber', { code: 'phone-code-1', errMsg: 'getPhoneNumber:ok' })
    expect(page.querySelector('.phone-error').dom.textContent).toContain('手机号授权已失效')
  })

  test('refusing getPhoneNumber leaves typing the number', async () => {
    signIn(wx, 'resident')
    const page = await open('pages/profile/profile')
    await fire(page, '.get-phone', 'getphonenumber', { errMsg: 'getPhoneNumber:fail user deny' })
    expect(wx.shown.pop()).toEqual({ kind: 'toast', text: '未获取手机号，可直接填写' })
    expect(wx.server.last('PATCH', '/my/profile')).toBeFalsy()
  })
})
