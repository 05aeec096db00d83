// My profile. Residents: name, phone (WeChat's getPhoneNumber or typed), community and
// building, so counter staff can reach whoever booked; shown to themselves unmasked.
// Staff: who they are signed in as.
const api = require('../../utils/api')
const session = require('../../utils/session')

Component({
  data: {
    isStaff: false, staff: null, profile: null, form: { name: '', phone: '', unit: '', room: '' },
    communities: [], communityIndex: -1, buildings: [], buildingIndex: -1, saving: false, errors: {}, error: '',
  },

  methods: {
    onShow() {
      if (session.isStaff()) {
        return api.call('me').then(me => this.setData({ isStaff: true, staff: me.staff }))
          .catch(err => this.setData({ error: err.message }))
      }
      return Promise.all([api.call('profile'), api.call('communities')]).then(([profile, communities]) => {
        const items = communities.items
        const communityIndex = items.findIndex(c => profile.community && c.id === profile.community.id)
        this.setData({
          isStaff: false, profile, communities: items, communityIndex,
          form: { name: profile.name || '', phone: profile.phone || '', unit: profile.unit || '', room: profile.room || '' },
        })
        if (communityIndex >= 0) return this.loadBuildings(items[communityIndex].id, profile.building && profile.building.id)
        return null
      }).catch(err => this.setData({ error: err.message }))
    },

    loadBuildings(communityId, selectedId) {
      return api.call('buildings', { community_id: communityId }).then(page => {
        this.setData({ buildings: page.items, buildingIndex: page.items.findIndex(b => b.id === selectedId) })
      })
    },

    onField(e) {
      const name = e.currentTarget.dataset.name
      this.setData({ [`form.${name}`]: e.detail.value, [`errors.${name}`]: '' })
    },
    onCommunity(e) {
      const index = Number(e.detail.value)
      this.setData({ communityIndex: index, buildingIndex: -1, buildings: [] })
      return this.loadBuildings(this.data.communities[index].id, null)
    },
    onBuilding(e) {
      this.setData({ buildingIndex: Number(e.detail.value) })
    },
    // <button open-type="getPhoneNumber">: WeChat gives a one-time code the server exchanges.
    onPhoneNumber(e) {
      if (!e.detail || !e.detail.code) {
        wx.showToast({ title: '未获取手机号，可直接填写', icon: 'none' })
        return Promise.resolve()
      }
      return this.save({ phone_code: e.detail.code })
    },

    submit() {
      const { form, communities, communityIndex, buildings, buildingIndex } = this.data
      const body = { name: form.name.trim(), phone: form.phone.trim(), unit: form.unit.trim(), room: form.room.trim() }
      if (communityIndex >= 0) body.community_id = communities[communityIndex].id
      if (buildingIndex >= 0) body.building_id = buildings[buildingIndex].id
      // The server's rule (app/handlers/org/profile.py): a mobile, or a landline with its area code.
      if (body.phone && !/^1[3-9]\d{9}$/.test(body.phone) && !/^0\d{2,3}-?\d{7,8}$/.test(body.phone)) {
        this.setData({ 'errors.phone': '请填写11位手机号或带区号的固定电话' })
        return Promise.resolve()
      }
      return this.save(body)
    },

    save(body) {
      this.setData({ saving: true, 'errors.phone': '', 'errors.phone_code': '' })
      return api.call('updateProfile', {}, body).then(profile => {
        const user = Object.assign({}, session.user(), { community_id: profile.community ? profile.community.id : null })
        session.save(session.token(), user)
        this.setData({ profile, saving: false, 'form.phone': profile.phone || '' })
        wx.showToast({ title: '已保存', icon: 'success' })
      }).catch(err => {
        this.setData({ saving: false })
        if (err.field) this.setData({ [`errors.${err.field}`]: err.message })
        else api.showError(err)
      })
    },

    logout() {
      session.clear()
      wx.reLaunch({ url: '/pages/index/index' })
    },
  },
})
