// The 代办 catalogue: what the community office handles for residents, the materials to
// bring, and a way to book a time at the station.
const api = require('../../../utils/api')
const session = require('../../../utils/session')

Component({
  data: { items: [], open: null, needCommunity: false, error: '' },
  methods: {
    onShow() {
      const communityId = session.communityId()
      if (!communityId) {
        this.setData({ needCommunity: true })
        return Promise.resolve()
      }
      return api.call('catalogue', { community_id: communityId }).then(answer => this.setData({ items: answer.items, error: '' }))
        .catch(err => this.setData({ error: err.message }))
    },
    toggle(e) {
      const key = e.currentTarget.dataset.key
      this.setData({ open: this.data.open === key ? null : key })
    },
    book(e) {
      wx.navigateTo({ url: `/pages/resident/book/book?key=${e.currentTarget.dataset.key}` })
    },
    goProfile() {
      wx.switchTab({ url: '/pages/profile/profile' })
    },
  },
})
