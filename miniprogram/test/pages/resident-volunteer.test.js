const { open, flush, text, tap, input } = require('../support/page')
const { signIn } = require('../support/wx')

function resident() {
  signIn(wx, 'resident')
  wx.setStorageSync('linli.community_id', 1)
}

describe('双报到', () => {
  beforeEach(resident)

  test('not registered yet: the form checks the phone, then registers', async () => {
    wx.server.answer('party_member_missing')
    const page = await open('pages/resident/volunteer/volunteer')
    expect(text(page)).toContain('在职党员到居住地社区报到')
    await input(page, '.name', '陈桂芳')
    await input(page, '.phone', '1390000')
    await tap(page, '.register')
    expect(text(page)).toContain('请填写 11 位手机号')
    await input(page, '.phone', '13900003101')
    await input(page, '.work-unit', '市第一人民医院')
    await input(page, '.party-org', '医院第二党支部')
    await tap(page, '.register')
    expect(wx.server.last('POST', '/my/party-member').body).toEqual({ name: '陈桂芳', phone: '13900003101',
      kind: 'party', work_unit: '市第一人民医院', party_org: '医院第二党支部', community_id: 1 })
    expect(text(page)).toContain('2026 年志愿服务 0 / 24 小时')
  })

  test('registered: hours against the 24-hour target and the projects', async () => {
    const page = await open('pages/resident/volunteer/volunteer')
    expect(text(page)).toContain('还差 24 小时')
    expect(page.querySelector('.project.on').dom.textContent).toBe('健康义诊服务')
    await tap(page, '.project.on')
    expect(wx.server.last('POST', '/projects').body).toEqual({ project_ids: [] })
  })
})

describe('微心愿', () => {
  beforeEach(resident)

  test('a resident with a community posts a wish', async () => {
    const page = await open('pages/resident/wishes/wishes')
    await input(page, '.wish-title', '帮忙修一下自行车')
    await input(page, '.wish-detail', '车胎漏气')
    await tap(page, '.post')
    expect(wx.server.last('POST', '/my/wishes').body).toEqual({ title: '帮忙修一下自行车', detail: '车胎漏气' })
    expect(wx.shown.pop()).toEqual({ kind: 'toast', text: '已发布' })
    expect(text(page)).toContain('我的心愿待认领帮忙修一下自行车撤回')
  })

  test('a member claims and fulfils a neighbour wish', async () => {
    const page = await open('pages/resident/wishes/wishes')
    expect(text(page)).toContain('帮忙换个灯泡厨房灯坏了，够不着认领')
    const claims = page.querySelectorAll('.claim')
    claims[claims.length - 1].dispatchEvent('tap', { detail: {} })
    await flush()
    expect(wx.server.last('POST', '/claim').path).toMatch(/\/wishes\/\d+\/claim$/)
    expect(wx.shown.pop()).toEqual({ kind: 'toast', text: '已认领' })
    await tap(page, '.fulfil')
    expect(wx.server.last('POST', '/fulfil').body).toEqual({ note: '已帮助实现' })
    expect(wx.shown.pop()).toEqual({ kind: 'toast', text: '心愿已实现' })
  })

  test('a resident who is not a member sees only their own wishes', async () => {
    signIn(wx, 'neighbour')
    const page = await open('pages/resident/wishes/wishes')
    expect(page.querySelector('.open-empty')).toBeFalsy()
    expect(page.querySelector('.claim')).toBeFalsy()
    expect(text(page)).toContain('我的心愿已实现帮忙换个灯泡')
  })
})
