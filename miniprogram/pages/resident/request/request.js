// One of my requests: its progress, and once resolved the rating (回访): 满意 / 基本满意 /
// 不满意 — 不满意 sends it back to be handled again.
const api = require('../../../utils/api')
const format = require('../../../utils/format')
const { RATINGS, options } = require('../../../utils/labels')

Component({
  data: { id: null, request: null, progress: [], ratings: options(RATINGS), rating: '', comment: '', busy: false, error: '' },
  methods: {
    onLoad(query) {
      this.setData({ id: Number(query.id) })
      return api.call('myRequest', { request_id: this.data.id }).then(row => this.show(row))
        .catch(err => this.setData({ error: err.message }))
    },
    show(row) {
      this.setData({
        request: Object.assign({}, row, { due: format.dateTime(row.due_at), ratingLabel: RATINGS[row.rating] || '',
          photos: format.photoUrls(row.photos), resolution_photos: format.photoUrls(row.resolution_photos) }),
        progress: row.progress.map(p => Object.assign({}, p, { when: format.dateTime(p.at) })),
        error: '',
      })
    },
    preview(e) {
      const request = this.data.request
      wx.previewImage({ current: e.currentTarget.dataset.url, urls: request.photos.concat(request.resolution_photos) })
    },
    pick(e) {
      this.setData({ rating: e.currentTarget.dataset.value })
    },
    onComment(e) {
      this.setData({ comment: e.detail.value })
    },
    submit() {
      if (!this.data.rating) {
        wx.showToast({ title: '请选择满意程度', icon: 'none' })
        return Promise.resolve()
      }
      const body = { rating: this.data.rating }
      if (this.data.comment.trim()) body.comment = this.data.comment.trim()
      this.setData({ busy: true })
      return api.call('rate', { request_id: this.data.id }, body).then(row => {
        this.setData({ busy: false })
        wx.showToast({ title: body.rating === 'unsatisfied' ? '已重新交办' : '感谢评价', icon: 'success' })
        this.show(row)
      }).catch(err => {
        this.setData({ busy: false })
        api.showError(err)
      })
    },
  },
})
