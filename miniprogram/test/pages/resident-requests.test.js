const { open, text, tap, input } = require('../support/page')
const { signIn } = require('../support/wx')

describe('report a problem', () => {
  test('without a community the resident is sent to choose one first', async () => {
    signIn(wx, 'resident')
    const page = await open('pages/resident/report/report')
    expect(text(page)).toContain('请先选择您所在的社区')
    await tap(page, '.need-community')
    expect(wx.navigations).toEqual(['/pages/profile/profile'])
  })

  test.todo('the building picker lists the community buildings (GET /communities/{id}/buildings)')
  test.todo('the bot suggests the category while the resident types (POST /requests/classify)')
  test.todo('up to 9 photos from wx.chooseMedia are uploaded and sent with the report (POST /uploads)')
})

describe('my requests', () => {
  beforeEach(() => signIn(wx, 'resident'))

  test('my requests with their progress', async () => {
    const page = await open('pages/resident/requests/requests')
    expect(page.querySelectorAll('.request')).toHaveLength(2)
    expect(text(page)).toContain('不予受理')
    await tap(page, '.report')
    expect(wx.navigations).toEqual(['/pages/resident/report/report'])
  })

  test('a resolved request is rated 满意 / 基本满意 / 不满意', async () => {
    wx.server.answer('my_request_resolved')
    const page = await open('pages/resident/request/request', { id: '1' })
    expect(text(page)).toContain('已更换3栋2单元全部楼道灯')
    expect(page.querySelectorAll('.rate').map(n => n.dom.textContent)).toEqual(['满意', '基本满意', '不满意'])
    await tap(page, '.submit')
    expect(wx.shown.pop()).toEqual({ kind: 'toast', text: '请选择满意程度' })
    await tap(page, '.rate-satisfied')
    await input(page, '.comment', '修得很快，谢谢！')
    await tap(page, '.submit')
    expect(wx.server.last('POST', '/rate').body).toEqual({ rating: 'satisfied', comment: '修得很快，谢谢！' })
    expect(text(page)).toContain('您的评价：满意')
    expect(page.querySelector('.rating')).toBeFalsy()
  })

  test('choosing 不满意 says it will be handled again', async () => {
    wx.server.answer('my_request_resolved')
    const page = await open('pages/resident/request/request', { id: '1' })
    await tap(page, '.rate-unsatisfied')
    expect(text(page)).toContain('诉求会重新交办处理')
  })
})
