/** Hash router: each page is its own module, loaded when first visited. */
import './style.css';

type PageModule = { render(root: HTMLElement): void | Promise<void> };

const pages: Record<string, () => Promise<PageModule>> = {
  adapter: () => import('./pages/adapter.js'),
  playground: () => import('./pages/playground.js'),
  bench: () => import('./pages/bench.js'),
  model: () => import('./pages/model.js'),
};

let generation = 0;

async function route(): Promise<void> {
  const name = location.hash.replace(/^#\/?/, '').split('?')[0] || 'adapter';
  const key = name in pages ? name : 'adapter';
  for (const a of document.querySelectorAll<HTMLAnchorElement>('nav a'))
    a.classList.toggle('active', a.dataset.page === key);
  const root = document.getElementById('app')!;
  const mine = ++generation;
  root.replaceChildren();
  root.dataset.page = key;
  const mod = await pages[key]();
  if (mine !== generation) return;
  await mod.render(root);
}

window.addEventListener('hashchange', () => void route());
void route();
