const { open, text, tap, input, flush } = require('../support/page')
const { signIn } = require('../support/wx')
const { entry } = require('../support/fake-server')
const config = require('../../config')

// A resident who chose their community on the profile page.
function signInWithCommunity() {
  const user = signIn(wx, 'resident')
  wx.setStorageSync('linli.user', Object.assign({}, user, { community_id: entry('me_staff').response.staff.community_id }))
}

function uploaded(name = 'upload') {
  return { statusCode: 201, data: JSON.stringify(entry(name).response), errMsg: 'uploadFile:ok' }
}

describe('report a problem', () => {
  test('without a community the resident is sent to choose one first', async () => {
    signIn(wx, 'resident')
    const page = await open('pages/resident/report/report')
    expect(text(page)).toContain('请先选择您所在的社区')
    await tap(page, '.need-community')
    expect(wx.navigations).toEqual(['/pages/profile/profile'])
  })

  test('the building picker lists the community buildings (GET /communities/{id}/buildings)', async () => {
    signInWithCommunity()
    const page = await open('pages/resident/report/report')
    const buildings = entry('buildings').response.items
    expect(page.instance.data.buildings.map(b => b.name)).toEqual(buildings.map(b => b.name))
    page.querySelector('.building-picker').dispatchEvent('change', { detail: { value: 2 } })
    await flush()
    expect(text(page)).toContain(buildings[2].name)
    await input(page, '.report-text', '楼道灯坏了')
    await tap(page, '.submit')
    expect(wx.server.last('POST', '/my/requests').body).toEqual({ text: '楼道灯坏了', photos: [], building: buildings[2].number })
  })

  test('the bot suggests the category while the resident types (POST /requests/classify)', async () => {
    jest.useFakeTimers()
    signInWithCommunity()
    const page = await open('pages/resident/report/report')
    await input(page, '.report-text', '3栋2单元楼道灯坏了')
    jest.advanceTimersByTime(600)
    await flush()
    jest.useRealTimers()
    expect(wx.server.last('POST', '/requests/classify').body).toEqual({ text: '3栋2单元楼道灯坏了' })
    expect(page.instance.data.category).toBe(entry('classify').response.category)
    expect(text(page)).toContain('已根据描述推荐')
    expect(page.querySelector('.category.on').dom.textContent).toBe(entry('classify').response.category_label)
    expect(page.querySelector('.category-hint')).toBeFalsy()
  })

  test('text the bot cannot place asks the resident to pick a category', async () => {
    jest.useFakeTimers()
    signInWithCommunity()
    const page = await open('pages/resident/report/report')
    wx.server.answer('classify_unclear')
    await input(page, '.report-text', '麻烦问一下')
    jest.advanceTimersByTime(600)
    await flush()
    jest.useRealTimers()
    expect(entry('classify_unclear').response.needs_choice).toBe(true)
    expect(page.querySelector('.category-hint').dom.textContent).toBe(entry('classify_unclear').response.message)
    expect(page.instance.data.category).toBe('')
  })

  test('up to 9 photos from wx.chooseMedia are uploaded and sent with the report (POST /uploads)', async () => {
    signInWithCommunity()
    const page = await open('pages/resident/report/report')
    wx.next.chooseMedia.push(['wxfile://tmp/a.jpg', 'wxfile://tmp/b.jpg'])
    await tap(page, '.add-photo')
    expect(wx.calls.chooseMedia).toMatchObject({ count: 9, mediaType: ['image'], sizeType: ['compressed'] })
    wx.next.chooseMedia.push(Array.from({ length: 8 }, (_, i) => `wxfile://tmp/${i}.jpg`))
    await tap(page, '.add-photo')
    expect(wx.calls.chooseMedia.count).toBe(7)
    expect(page.querySelectorAll('.photo-box')).toHaveLength(9)
    expect(page.querySelector('.add-photo')).toBeFalsy()
    await tap(page, '.remove')
    expect(page.querySelectorAll('.photo-box')).toHaveLength(8)
    for (let i = 0; i < 8; i++) wx.next.uploads.push(uploaded())
    await input(page, '.report-text', '3栋2单元楼道灯坏了')
    await tap(page, '.submit')
    expect(wx.calls.uploadFile).toHaveLength(8)
    expect(wx.calls.uploadFile[0]).toMatchObject({ url: `${config.baseUrl}/api/v1/uploads`, name: 'file',
      filePath: 'wxfile://tmp/b.jpg', header: { Authorization: `Bearer ${wx.getStorageSync('linli.token')}` } })
    const sent = wx.server.last('POST', '/my/requests').body
    expect(sent.photos).toEqual(Array(8).fill(entry('upload').response.url))
    expect(wx.navigations).toEqual([`/pages/resident/request/request?id=${entry('report').response.id}`])
  })

  test('a photo the server refuses stops the report with its reason', async () => {
    signInWithCommunity()
    const page = await open('pages/resident/report/report')
    wx.next.chooseMedia.push(['wxfile://tmp/huge.jpg'])
    await tap(page, '.add-photo')
    wx.next.uploads.push({ statusCode: 413, errMsg: 'uploadFile:ok',
      data: JSON.stringify({ error: { code: 'too_large', message: '照片不能超过10MB (file too large)', field: 'file' } }) })
    await input(page, '.report-text', '楼道灯坏了')
    await tap(page, '.submit')
    expect(wx.shown.pop()).toMatchObject({ kind: 'modal', text: '照片不能超过10MB' })
    expect(wx.server.last('POST', '/my/requests')).toBeFalsy()
    expect(page.instance.data.busy).toBe(false)
  })
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
    const page = await open('pages/resident/request/request', { id: String(entry('report').response.id) })
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

  test('the report photos and the resolution photos are shown from the server', async () => {
    wx.server.answer('my_request_resolved')
    const page = await open('pages/resident/request/request', { id: String(entry('report').response.id) })
    const recorded = entry('my_request_resolved').response
    expect(page.querySelectorAll('.resolution-photos .photo')).toHaveLength(1)
    await tap(page, '.resolution-photos .photo')
    expect(wx.calls.preview.current).toBe(config.baseUrl + recorded.resolution_photos[0])
    expect(wx.calls.preview.urls).toEqual(recorded.photos.concat(recorded.resolution_photos).map(p => config.baseUrl + p))
  })

  test('choosing 不满意 says it will be handled again', async () => {
    wx.server.answer('my_request_resolved')
    const page = await open('pages/resident/request/request', { id: String(entry('report').response.id) })
    await tap(page, '.rate-unsatisfied')
    expect(text(page)).toContain('诉求会重新交办处理')
  })
})
