// Which actions a staff member may take on a request in its state: the API's rules
// (app/handlers/requests ACTION_ROLES and the allowed-from states), so the page offers only
// buttons that can succeed. The API still decides; a refused action shows its message.
const OPEN = ['received', 'acknowledged', 'dispatched', 'in_progress']
const COORDINATORS = ['duty', 'grid_leader', 'community_admin']
const RULES = [
  { action: 'reply', label: '公开回复', roles: null, from: OPEN.concat(['resolved']) },
  { action: 'dispatch', label: '派单', roles: COORDINATORS.concat(['street_admin']), from: OPEN },
  { action: 'start', label: '开始处理', roles: COORDINATORS.concat(['grid_worker', 'street_admin', 'department']),
    from: ['received', 'acknowledged', 'dispatched'] },
  { action: 'escalate', label: '吹哨上报', roles: COORDINATORS.concat(['grid_worker', 'street_admin']), from: OPEN },
  { action: 'resolve', label: '办结', roles: COORDINATORS.concat(['grid_worker', 'street_admin', 'department']),
    from: OPEN },
  { action: 'reject', label: '不予受理', roles: COORDINATORS, from: OPEN },
]

function allowedActions(status, roles) {
  const have = new Set(roles || [])
  return RULES.filter(rule => rule.from.includes(status) && (!rule.roles || rule.roles.some(r => have.has(r))))
    .map(({ action, label }) => ({ action, label }))
}

module.exports = { allowedActions, OPEN }
