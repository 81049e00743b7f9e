// A paged list bound to a console list route: {items, total, page, page_size}.
import { nextTick, reactive, ref } from 'vue'
import { get } from './api.js'

export function useList(path, filters = {}) {
  const state = reactive({ items: [], total: 0, page: 1, page_size: 20, loading: false })
  const f = reactive({ ...filters })
  async function load() {
    state.loading = true
    try {
      const r = await get(path, { ...f, page: state.page, page_size: state.page_size })
      state.items = r.items
      state.total = r.total
    } catch { state.items = []; state.total = 0 } finally { state.loading = false }
  }
  function search() { state.page = 1; return load() }
  return { state, f, load, search }
}

// Field errors from the API's {code, message, field} next to the right input.
export function useFieldErrors() {
  const errors = ref({})
  const general = ref('')
  function clear() { errors.value = {}; general.value = '' }
  function take(e) {
    clear()
    const msg = (e && e.message) || '操作失败'
    if (!e || !e.field) { general.value = msg; return }
    errors.value = { [e.field]: msg }
    // a field this form has no input for (say parent_meter_id): show it above the buttons
    nextTick(() => { if (!document.querySelector('.el-form-item__error')) general.value = msg })
  }
  return { errors, general, clear, take }
}

// Options for community/building selects, loaded once per page.
export async function loadAll(path, params = {}) {
  const out = []
  for (let page = 1; page <= 50; page++) {
    const r = await get(path, { ...params, page, page_size: 200 })
    out.push(...r.items)
    if (out.length >= r.total || r.items.length === 0) break
  }
  return out
}
