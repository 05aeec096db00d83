// A request for staff: timeline, photos, the resident (tap to call), and the actions its
// state allows: reply, dispatch, start, escalate (吹哨) with a reason, resolve with a note and
// photos, reject with a reason.
const api = require('../../../utils/api')
const format = require('../../../utils/format')
const session = require('../../../utils/session')
const { allowedActions } = require('../../../utils/actions')
const { LEVELS, options } = require('../../../utils/labels')

const NEEDS_TEXT = {
  reply: { field: 'text', placeholder: '公开回复居民（发到居民所在群或私聊）' },
  escalate: { field: 'reason', placeholder: '吹哨原因：网格为什么解决不了' },
  resolve: { field: 'note', placeholder: '办结说明：做了什么、结果如何' },
  reject: { field: 'reason', placeholder: '不予受理的原因（会告知居民）' },
}
const CALLS = { reply: 'requestReply', dispatch: 'requestDispatch', start: 'requestStart', escalate: 'requestEscalate',
  resolve: 'requestResolve', reject: 'requestReject' }

Component({
  data: {
    id: null, request: null, actions: [], timeline: [], form: null, text: '', levels: options(LEVELS),
    levelIndex: 0, photos: [], busy: false, error: '',
  },

  methods: {
    onLoad(query) {
      this.setData({ id: Number(query.id) })
      return this.load()
    },

    load() {
      return api.call('request', { request_id: this.data.id }).then(row => this.show(row))
        .catch(err => this.setData({ error: err.message }))
    },

    show(row) {
      const timeline = (row.timeline || []).map(t => Object.assign({}, t, { when: format.dateTime(t.at) }))
      const user = session.user() || {}
      this.setData({
        request: Object.assign({}, row, { due: format.dateTime(row.due_at), created: format.dateTime(row.created_at),
          photos: format.photoUrls(row.photos), resolution_photos: format.photoUrls(row.resolution_photos),
          replyDue: row.reply_clock ? format.clock(row.reply_clock.due_at) : '' }),
        timeline, actions: allowedActions(row.status, user.roles), error: '',
      })
    },

    call() {
      const resident = this.data.request.resident
      if (resident && resident.phone) wx.makePhoneCall({ phoneNumber: resident.phone })
    },
    preview(e) {
      const request = this.data.request
      wx.previewImage({ current: e.currentTarget.dataset.url, urls: request.photos.concat(request.resolution_photos) })
    },

    act(e) {
      const action = e.currentTarget.dataset.action
      if (NEEDS_TEXT[action]) {
        this.setData({ form: Object.assign({ action }, NEEDS_TEXT[action]), text: '', photos: [] })
        return Promise.resolve()
      }
      return this.run(action, {})
    },
    cancelForm() {
      this.setData({ form: null, text: '', photos: [] })
    },
    onText(e) {
      this.setData({ text: e.detail.value })
    },
    onLevel(e) {
      this.setData({ levelIndex: Number(e.detail.value) })
    },
    addPhotos() {
      return new Promise(resolve => {
        wx.chooseMedia({
          count: 9 - this.data.photos.length, mediaType: ['image'], sourceType: ['album', 'camera'],
          success: res => {
            this.setData({ photos: this.data.photos.concat(res.tempFiles.map(f => f.tempFilePath)) })
            resolve()
          },
          fail: () => resolve(),
        })
      })
    },

    submitForm() {
      const { form, text, levels, levelIndex } = this.data
      if (!text.trim()) {
        wx.showToast({ title: '请先填写内容', icon: 'none' })
        return Promise.resolve()
      }
      const body = { [form.field]: text.trim() }
      if (form.action === 'escalate') body.level = levels[levelIndex].value
      const photos = form.action === 'resolve' ? this.data.photos : []
      return Promise.all(photos.map(p => api.upload(p))).then(urls => {
        if (urls.length) body.photos = urls
        return this.run(form.action, body)
      }).catch(err => api.showError(err))
    },

    run(action, body) {
      this.setData({ busy: true })
      return api.call(CALLS[action], { request_id: this.data.id }, body).then(row => {
        this.setData({ busy: false, form: null, text: '', photos: [] })
        wx.showToast({ title: '已提交', icon: 'success' })
        this.show(row)
      }).catch(err => {
        this.setData({ busy: false })
        api.showError(err)
      })
    },
  },
})
