import { createRouter, createWebHistory } from 'vue-router'
import { session, loadMe, setUnauthenticatedHandler } from './api.js'
import Layout from './views/Layout.vue'
import Login from './views/Login.vue'

const soon = (title) => ({ component: () => import('./views/ComingSoon.vue'), props: { title }, meta: { title } })

const routes = [
  { path: '/login', component: Login, meta: { public: true, title: '登录' } },
  {
    path: '/', component: Layout, children: [
      { path: '', redirect: '/dashboard' },
      { path: 'dashboard', component: () => import('./views/Dashboard.vue'), meta: { title: '首页概览' } },
      { path: 'communities', component: () => import('./views/Communities.vue'), meta: { title: '小区管理' } },
      { path: 'buildings', component: () => import('./views/Buildings.vue'), meta: { title: '楼栋管理' } },
      { path: 'houses', component: () => import('./views/Houses.vue'), meta: { title: '房屋管理' } },
      { path: 'houses/:id', component: () => import('./views/HouseDetail.vue'), meta: { title: '房屋详情' } },
      { path: 'residents', component: () => import('./views/Residents.vue'), meta: { title: '住户管理' } },
      { path: 'meters', component: () => import('./views/Meters.vue'), meta: { title: '表计管理' } },
      { path: 'tariffs', component: () => import('./views/Tariffs.vue'), meta: { title: '价格方案' } },
      { path: 'tariffs/:id', component: () => import('./views/TariffDetail.vue'), meta: { title: '价格方案详情' } },
      { path: 'tariff-preview', component: () => import('./views/TariffPreview.vue'), meta: { title: '电费试算' } },
      { path: 'billing', component: () => import('./views/Billing.vue'), meta: { title: '计费任务' } },
      { path: 'bills', component: () => import('./views/Bills.vue'), meta: { title: '账单管理' } },
      { path: 'staff', component: () => import('./views/Staff.vue'), meta: { title: '员工与角色' } },
      { path: 'audit', component: () => import('./views/Audit.vue'), meta: { title: '操作日志' } },
      { path: 'readings', component: () => import('./views/Readings.vue'), meta: { title: '抄表读数' } },
      { path: 'readings/review', component: () => import('./views/Review.vue'), meta: { title: '数据审核' } },
      { path: 'readings/import', component: () => import('./views/ReadingImport.vue'), meta: { title: '批量导入读数' } },
      { path: 'payments', component: () => import('./views/Payments.vue'), meta: { title: '缴费与退款' } },
      { path: 'soon/alerts', ...soon('告警处理') },
      { path: 'soon/notices', ...soon('通知公告') },
      { path: 'soon/tickets', ...soon('报修工单') },
      { path: 'soon/reports', ...soon('统计报表') },
    ],
  },
  { path: '/:pathMatch(.*)*', redirect: '/dashboard' },
]

const router = createRouter({ history: createWebHistory(), routes })

router.beforeEach(async (to) => {
  if (!session.checked) await loadMe()
  if (to.meta.public) return session.staff && to.path === '/login' ? '/dashboard' : true
  if (!session.staff) return { path: '/login', query: to.fullPath !== '/dashboard' ? { redirect: to.fullPath } : {} }
  return true
})
router.afterEach((to) => { document.title = (to.meta.title ? to.meta.title + ' - ' : '') + '小区水电收费管理平台' })

setUnauthenticatedHandler(() => {
  const cur = router.currentRoute.value
  if (!cur.meta.public) router.replace({ path: '/login', query: { redirect: cur.fullPath } })
})

export default router
