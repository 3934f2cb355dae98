/** The explorer's routes: /lab (live lab), /phase (seed 002's phase diagram), /results[/<experiment>]. */
import './style.css';
import { clear, h } from './dom.js';
import { labView } from './lab/labView.js';
import { phaseView } from './phase/phaseView.js';
import { experimentListView, experimentView } from './results/resultsView.js';

const root = document.getElementById('app') as HTMLElement;
let teardown: (() => void) | null = null;

const NAV: readonly [string, string][] = [
  ['/lab', 'Live lab'],
  ['/phase', 'Phase diagram'],
  ['/results', 'Results'],
];

function navigate(path: string): void {
  history.pushState(null, '', path);
  route();
}

function route(): void {
  teardown?.();
  teardown = null;
  const { pathname, search } = location;
  const params = new URLSearchParams(search);
  for (const link of document.querySelectorAll<HTMLAnchorElement>('nav a')) link.classList.toggle('active', pathname.startsWith(link.pathname));
  const view = h('main', {});
  clear(root);
  root.append(view);
  if (pathname === '/' || pathname === '/lab') teardown = labView(view, params);
  else if (pathname === '/phase') teardown = phaseView(view, params);
  else if (pathname === '/results') void experimentListView(view, navigate);
  else if (pathname.startsWith('/results/')) void experimentView(view, decodeURIComponent(pathname.slice('/results/'.length)), params, navigate);
  else view.append(h('p', { class: 'notice error' }, `no page ${pathname}; there are /lab, /phase and /results`));
}

const nav = document.getElementById('nav') as HTMLElement;
for (const [path, label] of NAV) {
  const link = h('a', { href: path }, label);
  link.addEventListener('click', (e) => {
    e.preventDefault();
    navigate(path);
  });
  nav.append(link);
}
window.addEventListener('popstate', route);
route();
