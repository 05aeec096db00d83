const { open, text, tap, input } = require('../support/page')
const { signIn } = require('../support/wx')
const { entry } = require('../support/fake-server')
const config = require('../../config')

// The ids the recording gave the requests (the demo data may hold others before them).
const FIRST = String(entry('report').response.id)
const SECOND = String(entry('report_second').response.id)
const LATE = String(entry('report_late').response.id)

describe('staff request list', () => {
  test('open requests by deadline, each opening its detail', async () => {
    signIn(wx, 'staff')
    const page = await open('pages/staff/requests/requests')
    expect(text(page)).toContain('办理中 2 件')
    expect(text(page)).toContain('R20261117-0001')
    await tap(page, '.request')
    expect(wx.navigations[0]).toMatch(/^\/pages\/staff\/request\/request\?id=\d+$/)
  })
})

describe('staff request detail', () => {
  beforeEach(() => signIn(wx, 'staff'))

  test('timeline, resident and the actions the state allows', async () => {
    const page = await open('pages/staff/request/request', { id: FIRST })
    expect(text(page)).toContain('3栋2单元楼道灯坏了')
    expect(text(page)).toContain('提交诉求')
    expect(text(page)).toContain('第一网格')
    // The name and phone the resident gave on their profile (getPhoneNumber): staff can call back.
    expect(text(page)).toContain('王秀英')
    await tap(page, '.phone')
    expect(wx.calls.phone).toBe('13800138000')
    // The report's photo, a path on the server, is shown (and previewed) from the server's address.
    expect(page.querySelectorAll('.photos .photo')).toHaveLength(1)
    await tap(page, '.photos .photo')
    expect(wx.calls.preview.current).toBe(config.baseUrl + entry('request_detail_new').response.photos[0])
    const labels = page.instance.data.actions.map(a => a.label)
    expect(labels).toEqual(['公开回复', '派单', '开始处理', '吹哨上报', '办结', '不予受理'])
  })

  test('dispatch goes to the grid worker with one tap', async () => {
    const page = await open('pages/staff/request/request', { id: FIRST })
    await tap(page, '.action-dispatch')
    expect(wx.server.last('POST', `/requests/${FIRST}/dispatch`).body).toEqual({})
    expect(text(page)).toContain('承办：孙婷')
  })

  test('escalating asks for the level and a reason', async () => {
    const page = await open('pages/staff/request/request', { id: FIRST })
    await tap(page, '.action-escalate')
    await tap(page, '.form-submit')
    expect(wx.shown.pop()).toEqual({ kind: 'toast', text: '请先填写内容' })
    await input(page, '.form-text', '楼道灯线路老化，需要社区统一报修')
    await tap(page, '.form-submit')
    expect(wx.server.last('POST', `/requests/${FIRST}/escalate`).body)
      .toEqual({ reason: '楼道灯线路老化，需要社区统一报修', level: 'community' })
    expect(page.instance.data.request.level_label).toBe('社区')
  })

  test('a resolved request offers no more handling, only a reply', async () => {
    wx.server.answer('request_detail_resolved')
    const page = await open('pages/staff/request/request', { id: FIRST })
    expect(page.instance.data.actions.map(a => a.action)).toEqual(['reply'])
    expect(text(page)).toContain('已办结')
    expect(page.querySelectorAll('.resolution-photos .photo')).toHaveLength(1)
  })

  test('resolving uploads the photos of the work and sends their urls', async () => {
    const page = await open('pages/staff/request/request', { id: FIRST })
    await tap(page, '.action-resolve')
    wx.next.chooseMedia.push(['wxfile://tmp/done.jpg'])
    await tap(page, '.add-photo')
    wx.next.uploads.push({ statusCode: 201, errMsg: 'uploadFile:ok', data: JSON.stringify(entry('upload_staff').response) })
    await input(page, '.form-text', '已更换3栋2单元全部楼道灯，线路已检修。')
    await tap(page, '.form-submit')
    expect(wx.calls.uploadFile.map(u => u.filePath)).toEqual(['wxfile://tmp/done.jpg'])
    expect(wx.server.last('POST', `/requests/${FIRST}/resolve`).body).toEqual({
      note: '已更换3栋2单元全部楼道灯，线路已检修。', photos: [entry('upload_staff').response.url] })
  })

  test('rejecting tells the resident why', async () => {
    const page = await open('pages/staff/request/request', { id: SECOND })
    await tap(page, '.action-reject')
    await input(page, '.form-text', '消防通道占用请拨打119或联系物业，社区已转告物业巡查。')
    await tap(page, '.form-submit')
    expect(wx.server.last('POST', `/requests/${SECOND}/reject`).body.reason).toContain('119')
    expect(page.instance.data.request.status).toBe('rejected')
  })

  test('an action the state no longer allows shows the server reason', async () => {
    const page = await open('pages/staff/request/request', { id: SECOND })
    await tap(page, '.action-start')
    expect(wx.shown.pop().text).toContain('不能开始处理')
  })

  test('an overdue reply clock is shown', async () => {
    wx.server.answer('request_detail_overdue')
    const page = await open('pages/staff/request/request', { id: LATE })
    expect(text(page)).toContain('超过 1 小时未公开回复')
  })
})
