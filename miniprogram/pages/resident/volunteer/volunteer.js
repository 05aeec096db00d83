// 双报到: in-service party members (and volunteers) register with the community where they
// live, choose service projects and see their hours this year against the 24-hour target.
const api = require('../../../utils/api')
const format = require('../../../utils/format')
const session = require('../../../utils/session')
const { MEMBER_KINDS, options } = require('../../../utils/labels')

Component({
  data: {
    registered: null, year: null, projects: [], chosen: {}, kinds: options(MEMBER_KINDS), kindIndex: 0,
    form: { name: '', phone: '', work_unit: '', party_org: '' }, errors: {}, busy: false, error: '',
  },
  methods: {
    onShow() {
      return api.call('partyMember').then(answer => this.showYear(answer.member, answer.year)).catch(err => {
        if (err.status === 404) this.setData({ registered: false })
        else this.setData({ error: err.message })
      }).then(() => api.call('volunteerProjects', { community_id: session.communityId() }))
        .then(page => this.setData({ projects: page.items })).catch(err => this.setData({ error: err.message }))
    },
    showYear(member, year) {
      const percent = Math.min(100, Math.round((year.hours / year.target_hours) * 100))
      this.setData({
        registered: true, member, chosen: Object.fromEntries(year.projects.filter(p => p.chosen).map(p => [p.id, true])),
        year: Object.assign({}, year, { percent, hoursText: format.hours(year.hours), remainingText: format.hours(year.hours_remaining) }),
      })
    },
    onField(e) {
      this.setData({ [`form.${e.currentTarget.dataset.name}`]: e.detail.value, [`errors.${e.currentTarget.dataset.name}`]: '' })
    },
    onKind(e) {
      this.setData({ kindIndex: Number(e.detail.value) })
    },
    register() {
      const form = this.data.form
      const body = { name: form.name.trim(), phone: form.phone.trim(), kind: this.data.kinds[this.data.kindIndex].value }
      if (!body.name) return Promise.resolve(this.setData({ 'errors.name': '请填写姓名' }))
      if (!/^1\d{10}$/.test(body.phone)) return Promise.resolve(this.setData({ 'errors.phone': '请填写 11 位手机号' }))
      if (form.work_unit.trim()) body.work_unit = form.work_unit.trim()
      if (form.party_org.trim()) body.party_org = form.party_org.trim()
      if (!(session.user() || {}).community_id) body.community_id = session.communityId()
      this.setData({ busy: true })
      return api.call('registerMember', {}, body).then(answer => {
        this.setData({ busy: false })
        wx.showToast({ title: '报到成功', icon: 'success' })
        this.showYear(answer.member, answer.year)
      }).catch(err => {
        this.setData({ busy: false })
        if (err.field) this.setData({ [`errors.${err.field}`]: err.message })
        else api.showError(err)
      })
    },
    toggleProject(e) {
      const id = e.currentTarget.dataset.id
      const chosen = Object.assign({}, this.data.chosen)
      if (chosen[id]) delete chosen[id]
      else chosen[id] = true
      return api.call('chooseProjects', {}, { project_ids: Object.keys(chosen).map(Number) })
        .then(year => this.showYear(this.data.member, year)).catch(err => api.showError(err))
    },
  },
})
