// Load a page (pages are built with Component(), as WeChat allows, so miniprogram-simulate
// can render them), attach it, run onLoad with the query, and wait for its API calls.
const path = require('path')
const simulate = require('miniprogram-simulate')

const ROOT = path.join(__dirname, '..', '..')

async function flush(times = 30) {
  // The fake wx answers in microtasks: let promise chains (callbacks, api calls, setData) run out.
  for (let i = 0; i < times; i++) await Promise.resolve()
}

// A page's definition runs once per test file (jest keeps its own module registry, so
// simulate.load cannot run the same file twice); each open() renders a new instance of it.
const loaded = {}

async function open(page, query = {}) {
  loaded[page] = loaded[page] || simulate.load(path.join(ROOT, page), { rootPath: ROOT, compiler: 'simulate' })
  const id = loaded[page]
  const comp = simulate.render(id)
  comp.attach(document.createElement('parent-wrapper'))
  if (comp.instance.onLoad) comp.instance.onLoad(query)
  if (comp.instance.onShow) comp.instance.onShow()
  await flush()
  return comp
}

function text(comp) {
  return comp.dom.textContent.replace(/\s+/g, ' ')
}

async function tap(comp, selector, detail = {}) {
  const node = comp.querySelector(selector)
  if (!node) throw new Error(`nothing matches ${selector}`)
  node.dispatchEvent('tap', { detail })
  await flush()
  return node
}

async function input(comp, selector, value) {
  const node = comp.querySelector(selector)
  if (!node) throw new Error(`nothing matches ${selector}`)
  node.dispatchEvent('input', { detail: { value } })
  await flush()
}

module.exports = { open, flush, text, tap, input, ROOT }
