// Report a problem (诉求): the text (the bot suggests its category as the resident types), the
// building from the community's list, up to 9 photos (wx.chooseMedia, uploaded one by one).
const api = require('../../../utils/api')
const session = require('../../../utils/session')
const { CATEGORIES, options } = require('../../../utils/labels')

const MAX_PHOTOS = 9
const SUGGEST_AFTER_MS = 600

Component({
  data: {
    text: '', categories: options(CATEGORIES), category: '', suggested: '', hint: '', picked: false,
    buildings: [], buildingIndex: -1, unit: '', room: '', photos: [], busy: false, fieldErrors: {}, needCommunity: false,
  },
  methods: {
    onLoad() {
      const communityId = session.communityId()
      if (!communityId) {
        this.setData({ needCommunity: true })
        return Promise.resolve()
      }
      return api.call('buildings', { community_id: communityId })
        .then(page => this.setData({ buildings: page.items }))
        .catch(err => api.showError(err))
    },
    onUnload() {
      if (this.suggestTimer) clearTimeout(this.suggestTimer)
    },

    onText(e) {
      this.setData({ text: e.detail.value, 'fieldErrors.text': '' })
      if (this.suggestTimer) clearTimeout(this.suggestTimer)
      this.suggestTimer = setTimeout(() => this.suggest(), SUGGEST_AFTER_MS)
    },
    // The same bot that reads chat messages classifies the form's text.
    suggest() {
      const text = this.data.text.trim()
      if (text.length < 4) return Promise.resolve()
      return api.call('classify', {}, { text }).then(answer => {
        // The bot does not guess: when it cannot place the text it says so and the resident picks.
        const update = { suggested: answer.category || '', hint: answer.needs_choice ? answer.message : '' }
        if (!this.data.picked) update.category = answer.category || ''
        this.setData(update)
      }).catch(() => null) // a suggestion is a help, never a blocker
    },
    pickCategory(e) {
      this.setData({ category: e.currentTarget.dataset.value, picked: true })
    },
    onBuilding(e) {
      this.setData({ buildingIndex: Number(e.detail.value) })
    },
    onField(e) {
      this.setData({ [e.currentTarget.dataset.name]: e.detail.value })
    },

    addPhotos() {
      const left = MAX_PHOTOS - this.data.photos.length
      if (left <= 0) return Promise.resolve()
      return new Promise(resolve => {
        wx.chooseMedia({
          count: left, mediaType: ['image'], sourceType: ['album', 'camera'], sizeType: ['compressed'],
          success: res => {
            this.setData({ photos: this.data.photos.concat(res.tempFiles.map(f => f.tempFilePath)).slice(0, MAX_PHOTOS) })
            resolve()
          },
          fail: () => resolve(),
        })
      })
    },
    removePhoto(e) {
      const photos = this.data.photos.slice()
      photos.splice(e.currentTarget.dataset.index, 1)
      this.setData({ photos })
    },
    goProfile() {
      wx.switchTab({ url: '/pages/profile/profile' })
    },

    submit() {
      const text = this.data.text.trim()
      if (!text) {
        this.setData({ 'fieldErrors.text': '请描述遇到的问题' })
        return Promise.resolve()
      }
      this.setData({ busy: true })
      return Promise.all(this.data.photos.map(p => api.upload(p))).then(urls => {
        const body = { text, photos: urls }
        if (this.data.category) body.category = this.data.category
        const building = this.data.buildings[this.data.buildingIndex]
        if (building) body.building = building.number
        if (this.data.unit.trim()) body.unit = this.data.unit.trim()
        if (this.data.room.trim()) body.room = this.data.room.trim()
        if (!(session.user() || {}).community_id) body.community_id = session.communityId()
        return api.call('report', {}, body)
      }).then(row => {
        this.setData({ busy: false })
        const filedAsOther = row.classification && row.classification.needs_choice
        if (filedAsOther) wx.showModal({ title: '已提交', content: row.classification.message, showCancel: false })
        else wx.showToast({ title: '已提交', icon: 'success' })
        wx.redirectTo({ url: `/pages/resident/request/request?id=${row.id}` })
      }).catch(err => {
        this.setData({ busy: false })
        if (err.field) this.setData({ [`fieldErrors.${err.field}`]: err.message })
        api.showError(err)
      })
    },
  },
})
