// Labels the app shows for values the API takes (its enums). The contract test checks that
// these keys are exactly the enums of /api/v1/openapi.json.
const CATEGORIES = {
  repair: '报修', utilities: '水电气暖', environment: '环境卫生', parking: '停车', ebike: '电动车',
  noise: '噪音扰民', property: '物业管理', safety: '安全隐患', neighbor: '邻里纠纷', other: '其他',
}
const RATINGS = { satisfied: '满意', basically: '基本满意', unsatisfied: '不满意' }
const LEVELS = { community: '社区', street: '街道', department: '职能部门' }
const CASE_STEPS = { forwarded: '转交部门', approved: '审批通过', rejected: '审批未通过', done: '办结' }
const MEMBER_KINDS = { party: '在职党员（双报到）', volunteer: '志愿者' }

function options(map) {
  return Object.keys(map).map(value => ({ value, label: map[value] }))
}

module.exports = { CATEGORIES, RATINGS, LEVELS, CASE_STEPS, MEMBER_KINDS, options }
