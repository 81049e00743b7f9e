import { createApp } from 'vue'
import ElementPlus from 'element-plus'
import 'element-plus/dist/index.css'
import zhCn from 'element-plus/es/locale/lang/zh-cn'
import * as Icons from '@element-plus/icons-vue'
import App from './App.vue'
import router from './router.js'
import { ApiError } from './api.js'
import './style.css'

const app = createApp(App)
// An ApiError has been shown to the user already (or led to the login page);
// anything else is a bug and goes to the console.
app.config.errorHandler = (err, _vm, info) => {
  if (err instanceof ApiError) return
  console.error(err, info)
}
window.addEventListener('unhandledrejection', (e) => { if (e.reason instanceof ApiError) e.preventDefault() })
for (const [name, comp] of Object.entries(Icons)) app.component(name, comp)
app.use(ElementPlus, { locale: zhCn }).use(router).mount('#app')
