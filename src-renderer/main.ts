import './lib/zod-setup';
import { mount } from 'svelte';
import App from './App.svelte';
import { start } from './lib/app.svelte';
import { resumeAfterRestart } from './lib/queue.svelte';
import './theme/base.css';
import './theme/controls.css';
import './theme/data.css';

const target = document.getElementById('app');
if (!target) throw new Error('index.html lacks #app');
mount(App, { target });
start();
void resumeAfterRestart();
