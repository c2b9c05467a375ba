// The kjobs console: plain ES module, no framework, no network access beyond this server.
// It uses KIE Server's jobs API (JSON) with the browser's basic-auth credentials, /console/api/counts, and the
// kjobs extensions under .../server/kjobs/ (charts, breakdown, job timeline, bulk actions).

const API = '/kie-server/services/rest/server';
const STATUSES = ['QUEUED', 'RUNNING', 'RETRYING', 'ERROR', 'DONE', 'CANCELLED'];
const FINAL = new Set(['DONE', 'ERROR', 'CANCELLED']);
const POLL_MS = 2000;

const $ = (selector, root = document) => root.querySelector(selector);
const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];

/** Builds an element: h('td', { class: 'x', dataset: { label: 'Id' } }, 'text', child). */
function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'dataset') Object.assign(element.dataset, value);
    else if (name === 'class') element.className = value;
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

// ---------------------------------------------------------------------------------------------------------------
// Talking to the server

/** No answer at all: the server is down or the network is. */
class UnreachableError extends Error {}

class ApiError extends Error {
  constructor(status, text) {
    super(text);
    this.status = status;
  }
}

/** KIE's errors are text/plain quoted strings: unquote them. */
function serverText(text) {
  const trimmed = text.trim();
  if (trimmed.startsWith('"')) {
    try {
      return JSON.parse(trimmed);
    } catch {
      /* not JSON after all */
    }
  }
  return trimmed;
}

async function call(method, path, body) {
  // From the origin, not relative to the page: a page opened as http://user:pass@host/console has its credentials
  // in its URL, and fetch refuses URLs with credentials (the browser still sends the ones it signed in with).
  const url = location.origin + (path.startsWith('/console') ? path : API + path);
  let response;
  try {
    response = await fetch(url, {
      method,
      credentials: 'same-origin',
      headers: { Accept: 'application/json', 'Content-Type': 'application/json' },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  } catch (error) {
    throw new UnreachableError(error.message);
  }
  const text = await response.text();
  if (!response.ok) {
    const message = serverText(text) || response.statusText;
    throw new ApiError(response.status, `${response.status}: ${message}`);
  }
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** A date as KIE writes it: {"java.util.Date": ms}, an ISO string (--json-dates iso) or ms. */
function toDate(value) {
  if (value === null || value === undefined) return null;
  if (typeof value === 'object' && 'java.util.Date' in value)
    return new Date(Number(value['java.util.Date']));
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

const pad = (n) => String(n).padStart(2, '0');
function formatDate(value) {
  const date = toDate(value);
  if (!date) return '—';
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`
  );
}

function dateElement(value) {
  const date = toDate(value);
  if (!date) return '—';
  return h('time', { datetime: date.toISOString() }, formatDate(value));
}

/** A class name that may wrap after each dot: org.<wbr>jbpm.<wbr>… */
function commandName(command) {
  if (command === null || command === undefined) return '—';
  return String(command)
    .split(/(?<=\.)/)
    .flatMap((part, index) => (index === 0 ? [part] : [h('wbr'), part]));
}

const statusBadge = (status) => h('span', { class: `badge s-${String(status).toLowerCase()}` }, status);

// ---------------------------------------------------------------------------------------------------------------
// Messages and confirmation

let messageTimer;
/** Says something in the live region: kind 'ok' or 'error'. */
function say(text, kind = 'ok') {
  const box = $('#message');
  clearTimeout(messageTimer);
  box.className = `message ${kind}`;
  box.textContent = text;
  if (kind === 'ok') messageTimer = setTimeout(() => (box.textContent = ''), 15000);
}

function errorText(error) {
  if (error instanceof ApiError) {
    if (error.status === 401) return 'Wrong user or password (401): reload the page to sign in again.';
    if (error.status === 403) return `This user may not use the jobs API (${error.message}).`;
    return `The server refused: ${error.message}`;
  }
  if (error instanceof UnreachableError) return `Server unreachable (${error.message}): is kjobs running?`;
  return `Unexpected error in the console: ${error.message}`;
}

/** Asks for confirmation in a modal dialog; resolves true when confirmed. */
function confirmAction(title, text, confirmLabel) {
  const dialog = $('#confirm');
  $('#confirm-title').textContent = title;
  $('#confirm-text').textContent = text;
  $('#confirm-yes').textContent = confirmLabel;
  const opener = document.activeElement;
  return new Promise((resolve) => {
    dialog.returnValue = '';
    dialog.addEventListener(
      'close',
      () => {
        if (opener instanceof HTMLElement) opener.focus();
        resolve(dialog.returnValue === 'ok');
      },
      { once: true },
    );
    dialog.showModal();
    $('#confirm-no').focus();
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Counts

async function refreshCounts() {
  try {
    const counts = await call('GET', '/console/api/counts');
    for (const status of STATUSES) {
      const button = $(`.count[data-status="${status}"]`);
      $('.n', button).textContent = String(counts[status] ?? 0);
    }
    $('#counts-updated').textContent = `Updated ${formatDate(Date.now())}, every ${POLL_MS / 1000} s.`;
  } catch (error) {
    $('#counts-updated').textContent = `Counts unavailable: ${errorText(error)}`;
  }
}

// While the tab is hidden the counts are not asked for (a count over a big store is not free); on return, at once.
let pollTimer;
function pollCounts() {
  clearTimeout(pollTimer);
  if (document.hidden) return;
  refreshCounts().finally(() => {
    clearTimeout(pollTimer);
    pollTimer = setTimeout(pollCounts, POLL_MS);
  });
}
document.addEventListener('visibilitychange', pollCounts);

// ---------------------------------------------------------------------------------------------------------------
// The job list

const list = {
  statuses: [],
  by: '',
  value: '',
  page: 0,
  pageSize: 20,
  descending: true,
  jobs: [],
  loadedAt: 0,
};
/** Ids of the jobs the user selected: kept across refreshes and pages. */
const selection = new Set();

function listPath() {
  const statuses = list.statuses.length > 0 ? list.statuses : STATUSES;
  const query = new URLSearchParams();
  for (const status of statuses) query.append('status', status);
  query.set('page', String(list.page));
  query.set('pageSize', String(list.pageSize));
  const value = encodeURIComponent(list.value.trim());
  const base =
    list.by === 'key'
      ? `/jobs/keys/${value}`
      : list.by === 'command'
        ? `/jobs/commands/${value}`
        : list.by === 'container'
          ? `/jobs/containers/${value}`
          : list.by === 'process'
            ? `/jobs/processes/instances/${value}`
            : '/jobs';
  return `${base}?${query}`;
}

function describeFilters() {
  const parts = [list.statuses.length > 0 ? list.statuses.join(', ') : 'any status'];
  const names = {
    key: 'business key',
    command: 'command',
    container: 'container',
    process: 'process instance',
  };
  if (list.by && list.value.trim()) parts.push(`${names[list.by]} ${list.value.trim()}`);
  return parts.join('; ');
}

async function loadList({ live = false } = {}) {
  if (live && list.by && !list.value.trim()) return;
  if (list.by && !list.value.trim()) {
    say('Enter a value to filter by, or choose "Nothing else".', 'error');
    $('#filter-value').focus();
    return;
  }
  if (list.by === 'process' && !/^\d+$/.test(list.value.trim())) {
    say('A process instance id is a whole number.', 'error');
    $('#filter-value').focus();
    return;
  }
  const path = listPath();
  try {
    const answer = await call('GET', path);
    // A refresh that the user overtook (new filters, another page) is dropped.
    if (path !== listPath()) return;
    list.jobs = (answer && answer['request-info-instance']) || [];
    renderList({ live });
    list.loadedAt = Date.now();
    renderLive();
  } catch (error) {
    if (live) {
      $('#live-status').textContent = `Live updates failing: ${errorText(error)}`;
      return;
    }
    list.jobs = [];
    renderList();
    say(errorText(error), 'error');
  }
}

function scheduledMs(job) {
  const date = toDate(job['request-scheduled-date']);
  return date ? date.getTime() : 0;
}

/** The signature of a row: when it changes, the row is drawn again. */
function rowKey(job) {
  return [
    job['request-status'],
    job['request-executions'],
    job['request-retries'],
    scheduledMs(job),
    job['request-business-key'],
  ].join('|');
}

/** Rows by job id, reused from one refresh to the next so that focus, selection and scroll stay. */
const rows = new Map();

function jobRow(job, fresh) {
  const id = job['request-instance-id'];
  const checkbox = h('input', {
    type: 'checkbox',
    class: 'select-job',
    'aria-label': `Select job ${id}`,
    dataset: { id: String(id) },
  });
  checkbox.checked = selection.has(id);
  checkbox.addEventListener('change', () => {
    if (checkbox.checked) selection.add(id);
    else selection.delete(id);
    renderSelection();
  });
  const row = h(
    'tr',
    { dataset: { id: String(id) }, class: fresh ? 'fresh' : undefined },
    h('td', { dataset: { label: 'Select' }, class: 'select' }, checkbox),
    h(
      'td',
      { dataset: { label: 'Id' } },
      h('a', { href: `#/jobs/${id}`, 'aria-label': `Job ${id}` }, `#${id}`),
    ),
    h('td', { dataset: { label: 'Status' } }, statusBadge(job['request-status'])),
    h('td', { dataset: { label: 'Command' }, class: 'command' }, commandName(job['request-command'])),
    h('td', { dataset: { label: 'Business key' } }, job['request-business-key'] ?? '—'),
    h('td', { dataset: { label: 'Container' } }, job['request-container-id'] ?? '—'),
    h('td', { dataset: { label: 'Executions' }, class: 'num' }, job['request-executions'] ?? 0),
    h('td', { dataset: { label: 'Retries left' }, class: 'num' }, job['request-retries'] ?? 0),
    h('td', { dataset: { label: 'Scheduled' } }, dateElement(job['request-scheduled-date'])),
  );
  if (fresh) setTimeout(() => row.classList.remove('fresh'), 2500);
  return row;
}

function renderList({ live = false } = {}) {
  const jobs = [...list.jobs].sort((a, b) => {
    const diff = scheduledMs(a) - scheduledMs(b) || a['request-instance-id'] - b['request-instance-id'];
    return list.descending ? -diff : diff;
  });
  const body = $('#jobs tbody');
  const scrollY = window.scrollY;
  const wanted = [];
  const seen = new Set();
  for (const job of jobs) {
    const id = job['request-instance-id'];
    seen.add(id);
    const key = rowKey(job);
    const known = rows.get(id);
    if (known && known.key === key) {
      wanted.push(known.row);
    } else {
      const row = jobRow(job, live);
      if (known) known.row.replaceWith(row);
      rows.set(id, { key, row });
      wanted.push(row);
    }
  }
  for (const [id, known] of rows) {
    if (!seen.has(id)) {
      known.row.remove();
      rows.delete(id);
    }
  }
  // Only what moved is moved: rows in place keep their focus.
  const current = [...body.children].filter((child) => !child.classList.contains('empty'));
  const same = current.length === wanted.length && current.every((row, i) => row === wanted[i]);
  if (!same) body.replaceChildren(...wanted);
  if (jobs.length === 0) {
    body.replaceChildren(
      h('tr', { class: 'empty' }, h('td', { colspan: 9 }, 'No jobs match these filters on this page.')),
    );
  }
  window.scrollTo(window.scrollX, scrollY);
  $('#list-summary').textContent =
    `Jobs (${describeFilters()}), page ${list.page + 1}: ${jobs.length} shown, ` +
    `sorted by scheduled date, ${list.descending ? 'newest' : 'oldest'} first`;
  $('#page-label').textContent = `Page ${list.page + 1}`;
  $('#prev').disabled = list.page === 0;
  $('#next').disabled = list.jobs.length < list.pageSize;
  $('#sort-header').setAttribute('aria-sort', list.descending ? 'descending' : 'ascending');
  $('#sort-arrow').textContent = list.descending ? '▼' : '▲';
  $('#sort-text').textContent = list.descending
    ? ', newest first; activate to sort oldest first'
    : ', oldest first; activate to sort newest first';
  renderSelection();
  renderBulkButtons();
}

function readFilters() {
  const form = $('#filters');
  list.statuses = $$('input[name="status"]:checked', form).map((input) => input.value);
  list.by = $('#filter-by').value;
  list.value = $('#filter-value').value;
  list.pageSize = Number($('#page-size').value);
}

function setupList() {
  $('#filters').addEventListener('submit', (event) => {
    event.preventDefault();
    readFilters();
    list.page = 0;
    loadList();
  });
  $('#reset-filters').addEventListener('click', () => {
    $('#filters').reset();
    $('#filter-value').disabled = true;
    readFilters();
    list.page = 0;
    loadList();
  });
  $('#filter-by').addEventListener('change', () => {
    const by = $('#filter-by').value;
    $('#filter-value').disabled = by === '';
    $('#filter-value').inputMode = by === 'process' ? 'numeric' : 'text';
  });
  $('#filter-value').disabled = true;
  $('#prev').addEventListener('click', () => {
    if (list.page > 0) list.page -= 1;
    loadList();
  });
  $('#next').addEventListener('click', () => {
    list.page += 1;
    loadList();
  });
  $('#refresh').addEventListener('click', () => {
    loadList();
    refreshCounts();
  });
  $('#sort-scheduled').addEventListener('click', () => {
    list.descending = !list.descending;
    renderList();
  });
  $('#select-page').addEventListener('change', () => {
    const checked = $('#select-page').checked;
    for (const job of list.jobs) {
      if (checked) selection.add(job['request-instance-id']);
      else selection.delete(job['request-instance-id']);
    }
    for (const box of $$('#jobs .select-job')) box.checked = checked;
    renderSelection();
  });
  // The user is acting: live updates wait until a few seconds after the last key or click in the list.
  for (const type of ['pointerdown', 'keydown', 'input', 'focusin']) {
    $('#view-list').addEventListener(type, () => {
      live.lastAction = Date.now();
      renderLive();
    });
  }
  $('#live-toggle').addEventListener('click', () => {
    live.off = !live.off;
    $('#live-toggle').setAttribute('aria-pressed', String(live.off));
    $('#live-toggle').textContent = live.off ? 'Resume live updates' : 'Pause live updates';
    if (!live.off) live.lastAction = 0;
    renderLive();
  });
  setupBulk();
  for (const button of $$('.count')) {
    button.addEventListener('click', () => {
      // A count shows every job of its status: the other filters are cleared.
      $('#filter-by').value = '';
      $('#filter-value').value = '';
      $('#filter-value').disabled = true;
      for (const input of $$('input[name="status"]')) input.checked = input.value === button.dataset.status;
      readFilters();
      list.page = 0;
      if (location.hash !== '#/' && location.hash !== '') location.hash = '#/';
      else loadList();
    });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// One job

let current = { id: null, job: null, timer: null };

function field(label, value) {
  return [h('dt', {}, label), h('dd', {}, value)];
}

function dataBlock(title, data) {
  const empty =
    data === null || data === undefined || (typeof data === 'object' && Object.keys(data).length === 0);
  return h(
    'section',
    { class: 'data' },
    h('h3', {}, title),
    empty ? h('p', { class: 'hint' }, 'None.') : h('pre', { tabindex: 0 }, JSON.stringify(data, null, 2)),
  );
}

/** The job's stored times and its timeline (GET .../server/kjobs/jobs/{id}/timeline). */
function renderTimeline(timeline) {
  const at = (iso) => (iso ? dateElement(iso) : '—');
  const facts = $('#job-body .facts');
  facts?.append(
    ...field('Created', at(timeline.createdAt)),
    ...field('Started', at(timeline.startedAt)),
    ...field('Finished', at(timeline.finishedAt)),
  );
  $('#job-timeline').replaceChildren(
    ...timeline.timeline.map((entry) => {
      switch (entry.kind) {
        case 'scheduled':
          return h(
            'li',
            { class: 'tl-scheduled' },
            h('span', { class: 'tl-what' }, 'Scheduled'),
            ' ',
            at(entry.at),
            entry.dueAt && entry.dueAt !== entry.at ? [', due ', at(entry.dueAt)] : '',
          );
        case 'attempt': {
          const outcome =
            entry.outcome === 'DONE' ? 'done' : entry.outcome === 'running' ? 'running' : 'failed';
          return h(
            'li',
            { class: `tl-attempt tl-${outcome}` },
            h('span', { class: 'tl-what' }, `Attempt ${entry.attempt}`),
            ' ',
            statusBadge(outcome === 'done' ? 'DONE' : outcome === 'running' ? 'RUNNING' : 'ERROR'),
            h(
              'span',
              { class: 'tl-times' },
              ' started ',
              at(entry.startedAt),
              entry.endedAt ? [', ended ', at(entry.endedAt)] : ' (still running)',
              entry.durationMs !== null && entry.durationMs !== undefined
                ? `, took ${duration(entry.durationMs)}`
                : '',
            ),
            entry.error ? h('p', { class: 'tl-error' }, entry.error) : '',
          );
        }
        case 'cancel':
        case 'requeue':
          return h(
            'li',
            { class: `tl-${entry.kind}` },
            h('span', { class: 'tl-what' }, entry.kind === 'cancel' ? 'Cancelled' : 'Requeued'),
            ' ',
            at(entry.at),
            ` (was ${entry.fromStatus})`,
          );
        default:
          return h(
            'li',
            { class: 'tl-due' },
            h('span', { class: 'tl-what' }, 'Next run due'),
            ' ',
            at(entry.at),
          );
      }
    }),
  );
}

function renderJob(job) {
  const id = job['request-instance-id'];
  const errors = (job['request-errors'] && job['request-errors']['error-info-instance']) || [];
  $('#job-title').textContent = `Job ${id}`;
  $('#job-body').replaceChildren(
    h(
      'dl',
      { class: 'facts' },
      field('Status', statusBadge(job['request-status'])),
      field('Command', h('code', {}, commandName(job['request-command']))),
      field('Container', job['request-container-id'] ?? '—'),
      field('Business key', job['request-business-key'] ?? '—'),
      field('Executions', String(job['request-executions'] ?? 0)),
      field('Retries left', String(job['request-retries'] ?? 0)),
      field('Scheduled', dateElement(job['request-scheduled-date'])),
      field('Message', job['request-message'] ?? '—'),
    ),
    h(
      'section',
      { class: 'timeline-section', 'aria-labelledby': 'timeline-title' },
      h('h3', { id: 'timeline-title' }, 'Timeline'),
      h('ol', { id: 'job-timeline', class: 'timeline' }),
    ),
    dataBlock('Request data', job['request-data']),
    dataBlock('Response data', job['response-data']),
    h(
      'section',
      { class: 'errors' },
      h('h3', {}, `Errors (${errors.length})`),
      errors.length === 0
        ? h('p', { class: 'hint' }, 'None.')
        : h(
            'ol',
            {},
            errors.map((error) =>
              h(
                'li',
                { class: 'error-item' },
                h('p', { class: 'error-message' }, h('strong', {}, error['error-message'] ?? '(no message)')),
                h(
                  'p',
                  { class: 'hint' },
                  'At ',
                  dateElement(error['error-date']),
                  ` (error ${error['error-instance-id']})`,
                ),
                h(
                  'pre',
                  { class: 'stacktrace', tabindex: 0, 'aria-label': 'Stack trace' },
                  error['error-stacktrace'] ?? '',
                ),
              ),
            ),
          ),
    ),
  );
  const status = job['request-status'];
  $('#cancel').disabled = !['QUEUED', 'RETRYING', 'ERROR'].includes(status);
  $('#requeue').disabled = ['DONE', 'CANCELLED'].includes(status);
  $('#update-data').querySelector('button').disabled = !['QUEUED', 'RETRYING', 'ERROR'].includes(status);
}

/** kjobs extensions of the job page (issue 18): the job's parents and children, linked. */
function linkList(title, links, empty) {
  return h(
    'section',
    { class: 'links' },
    h('h3', {}, title),
    links.length === 0
      ? h('p', { class: 'hint' }, empty)
      : h(
          'ul',
          {},
          links.map((link) =>
            h(
              'li',
              {},
              h('a', { href: `#/jobs/${link.id}`, 'aria-label': `Job ${link.id}` }, `#${link.id}`),
              ' ',
              statusBadge(link.status),
              link.waiting ? ' (waiting)' : '',
              ' ',
              h('code', {}, commandName(link.command)),
            ),
          ),
        ),
  );
}

function progressSection(progress) {
  const value = typeof progress.value === 'number' ? progress.value : null;
  return h(
    'section',
    { id: 'job-progress', class: 'progress' },
    h('h3', {}, 'Progress'),
    value !== null ? h('progress', { max: 100, value, 'aria-label': `Progress ${value}%` }, `${value}%`) : '',
    value !== null ? h('span', { class: 'progress-value' }, ` ${value}%`) : '',
    progress.data ? h('pre', { tabindex: 0 }, JSON.stringify(progress.data, null, 2)) : '',
    progress.updatedAt ? h('p', { class: 'hint' }, 'Reported ', dateElement(progress.updatedAt)) : '',
  );
}

async function renderExtensions(id) {
  try {
    const [links, progress] = await Promise.all([
      call('GET', `/jobs/${id}/dependencies`),
      call('GET', `/jobs/${id}/progress`),
    ]);
    if (current.id !== id || !links) return;
    const body = $('#job-body');
    body.querySelector('#job-progress')?.remove();
    if (progress && (progress.value !== null || progress.data !== null)) {
      body.querySelector('dl.facts')?.after(progressSection(progress));
    }
    const waiting = links.waitingFor > 0 ? ` (waiting for ${links.waitingFor})` : '';
    const section = h(
      'div',
      { id: 'job-dependencies' },
      linkList(`Depends on${waiting}`, links.parents, 'No parents.'),
      linkList('Children', links.children, 'No children.'),
    );
    body.querySelector('#job-dependencies')?.remove();
    if (links.parents.length > 0 || links.children.length > 0) body.append(section);
  } catch {
    // An older server without the extension: the page shows KIE's fields only.
  }
}

async function loadJob(id, { quiet = false } = {}) {
  clearTimeout(current.timer);
  try {
    const [job, timeline] = await Promise.all([
      call('GET', `/jobs/${id}?withErrors=true&withData=true`),
      call('GET', `/kjobs/jobs/${id}/timeline`),
    ]);
    if (current.id !== id) return;
    current.job = job;
    renderJob(job);
    renderTimeline(timeline);
    await renderExtensions(id);
    // Follow the job while it may still change.
    if (!FINAL.has(job['request-status']))
      current.timer = setTimeout(() => loadJob(id, { quiet: true }), POLL_MS);
  } catch (error) {
    if (current.id !== id) return;
    if (!quiet) {
      const missing = error instanceof ApiError && error.status === 404;
      $('#job-body').replaceChildren(
        h('p', {}, missing ? `There is no job ${id}.` : 'This job could not be loaded.'),
      );
      $('#job-actions').hidden = missing;
    }
    say(errorText(error), 'error');
  }
}

async function act(description, run) {
  say('Working…');
  try {
    await run();
    say(description);
  } catch (error) {
    say(errorText(error), 'error');
  }
  if (current.id !== null) await loadJob(current.id);
  refreshCounts();
}

function setupJob() {
  $('#cancel').addEventListener('click', async () => {
    const id = current.id;
    const ok = await confirmAction(`Cancel job ${id}?`, 'A cancelled job never runs again.', 'Cancel job');
    if (ok) await act(`Job ${id} cancelled.`, () => call('DELETE', `/jobs/${id}`));
  });
  $('#requeue').addEventListener('click', async () => {
    const id = current.id;
    const ok = await confirmAction(
      `Requeue job ${id}?`,
      'The job goes back to QUEUED and runs again as soon as an executor takes it.',
      'Requeue',
    );
    if (ok) await act(`Job ${id} requeued.`, () => call('PUT', `/jobs/${id}`));
  });
  $('#update-data').addEventListener('submit', async (event) => {
    event.preventDefault();
    const id = current.id;
    const textarea = $('#update-data-json');
    let data;
    try {
      data = JSON.parse(textarea.value);
      if (data === null || typeof data !== 'object' || Array.isArray(data)) throw new Error('not an object');
    } catch (error) {
      textarea.setAttribute('aria-invalid', 'true');
      say(`The data must be a JSON object (${error.message}).`, 'error');
      textarea.focus();
      return;
    }
    textarea.removeAttribute('aria-invalid');
    const ok = await confirmAction(
      `Update the data of job ${id}?`,
      `These keys replace the job's values of the same name: ${Object.keys(data).join(', ') || '(none)'}.`,
      'Update data',
    );
    if (ok) await act(`Data of job ${id} updated.`, () => call('POST', `/jobs/${id}/data`, data));
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Scheduling

function setupSchedule() {
  $('#schedule').addEventListener('submit', async (event) => {
    event.preventDefault();
    const command = $('#new-command').value.trim();
    const container = $('#new-container').value.trim();
    const when = $('#new-date').value;
    const textarea = $('#new-data');
    let data;
    try {
      data = textarea.value.trim() ? JSON.parse(textarea.value) : {};
      if (data === null || typeof data !== 'object' || Array.isArray(data)) throw new Error('not an object');
    } catch (error) {
      textarea.setAttribute('aria-invalid', 'true');
      say(`The request data must be a JSON object (${error.message}).`, 'error');
      textarea.focus();
      return;
    }
    textarea.removeAttribute('aria-invalid');
    const scheduled = when ? new Date(when).getTime() : null;
    if (when && Number.isNaN(scheduled)) {
      say('The date and time are not valid.', 'error');
      $('#new-date').focus();
      return;
    }
    const body = {
      'job-command': command,
      'scheduled-date': scheduled === null ? null : { 'java.util.Date': scheduled },
      'request-data': data,
    };
    const path = container ? `/jobs?containerId=${encodeURIComponent(container)}` : '/jobs';
    say('Scheduling…');
    try {
      const answer = await call('POST', path, body);
      const id = typeof answer === 'object' && answer !== null ? answer.value : answer;
      $('#schedule').reset();
      say(`Job ${id} scheduled.`);
      refreshCounts();
      location.hash = `#/jobs/${id}`;
    } catch (error) {
      say(errorText(error), 'error');
    }
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Containers: KIE's GET /server/containers; each row leads to the container's jobs

/** Shows the jobs of a container in the list, any status. */
function showContainerJobs(id) {
  $$('input[name="status"]', $('#filters')).forEach((input) => (input.checked = false));
  $('#filter-by').value = 'container';
  $('#filter-value').value = id;
  readFilters();
  list.page = 0;
  location.hash = '#/';
}

async function loadContainers() {
  const body = $('#containers tbody');
  try {
    const [answer, paused] = await Promise.all([
      call('GET', '/containers'),
      // KIE Server has no pause: then no container shows one.
      call('GET', '/jobs/paused').catch(() => null),
    ]);
    const containers = answer?.result?.['kie-containers']?.['kie-container'] ?? [];
    const pausedIds = new Set(
      (paused?.paused ?? []).filter((target) => target.kind === 'container').map((target) => target.name),
    );
    body.replaceChildren(
      ...containers.map((container) => {
        const id = container['container-id'];
        const commands = container.commands ?? [];
        const button = h('button', { type: 'button', class: 'link' }, `Jobs of ${id}`);
        button.addEventListener('click', () => showContainerJobs(id));
        return h(
          'tr',
          {},
          h('th', { scope: 'row', dataset: { label: 'Container' } }, id),
          h(
            'td',
            { dataset: { label: 'Status' } },
            h('span', { class: 'badge s-done' }, container.status),
            // KIE's status stays STARTED (KIE has no paused state); kjobs starts none of its jobs.
            pausedIds.has(id) &&
              h(
                'span',
                { class: 'badge s-paused', title: 'Paused: none of its jobs starts until it is resumed' },
                'PAUSED',
              ),
          ),
          h(
            'td',
            { dataset: { label: 'Commands' }, class: 'command' },
            commands.length > 0
              ? h('ul', { class: 'plain' }, ...commands.map((name) => h('li', {}, name)))
              : '—',
          ),
          h('td', { dataset: { label: 'Jobs' } }, button),
        );
      }),
    );
    if (containers.length === 0) {
      body.append(h('tr', { class: 'empty' }, h('td', { colspan: 4 }, 'No containers are loaded.')));
    }
  } catch (error) {
    body.replaceChildren();
    say(errorText(error), 'error');
  }
}

/** What is paused (kjobs extension GET /server/jobs/paused), each with a Resume button. */
async function loadPaused() {
  const list = $('#paused');
  try {
    const answer = await call('GET', '/jobs/paused');
    const paused = answer?.paused ?? [];
    list.replaceChildren(
      ...paused.map((target) => {
        const button = h('button', { type: 'button' }, `Resume ${target.name}`);
        button.addEventListener('click', () =>
          act(`Resumed ${target.kind} ${target.name}.`, async () => {
            await call('POST', `${flowPath(target.kind, target.name)}/resume`);
            await Promise.all([loadPaused(), loadContainers()]);
          }),
        );
        return h(
          'li',
          {},
          `${target.kind} ${target.name}, paused `,
          dateElement(target.pausedAt),
          ' ',
          button,
        );
      }),
    );
    if (paused.length === 0) list.append(h('li', { class: 'hint' }, 'Nothing is paused.'));
  } catch (error) {
    list.replaceChildren();
    say(errorText(error), 'error');
  }
}

function flowPath(kind, name) {
  return `/jobs/${kind === 'container' ? 'containers' : 'commands'}/${encodeURIComponent(name)}`;
}

function setupPause() {
  $('#pause-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const kind = $('#pause-kind').value;
    const name = $('#pause-name').value.trim();
    if (!name) return;
    await act(`Paused ${kind} ${name}.`, async () => {
      await call('POST', `${flowPath(kind, name)}/pause`);
      $('#pause-name').value = '';
      await Promise.all([loadPaused(), loadContainers()]);
    });
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Live table: the list is asked for again every POLL_MS while it is shown, unless the user is acting

const PAUSE_AFTER_ACTION_MS = 4000;
const live = { off: false, lastAction: 0, busy: false, timer: null };

/** Why live updates wait now, or '' when they run. */
function livePause() {
  if (live.off) return 'Live updates paused.';
  if ($('#confirm').open || live.busy) return 'Live updates wait while you act…';
  if (Date.now() - live.lastAction < PAUSE_AFTER_ACTION_MS) return 'Live updates wait while you act…';
  return '';
}

function renderLive() {
  const pause = livePause();
  $('#live-status').textContent =
    pause || (list.loadedAt ? `Live: updated ${formatDate(list.loadedAt).slice(11)}` : 'Live');
  $('#live-status').classList.toggle('paused', Boolean(pause));
}

function pollList() {
  clearTimeout(live.timer);
  live.timer = setTimeout(async () => {
    const onList = !$('#view-list').hidden && !document.hidden;
    if (onList && !livePause()) await loadList({ live: true });
    else renderLive();
    pollList();
  }, POLL_MS);
}

// ---------------------------------------------------------------------------------------------------------------
// Selection and bulk actions: one call each to the kjobs extension (POST .../server/kjobs/jobs/cancel|requeue)

function renderSelection() {
  $('#selected-count').textContent = String(selection.size);
  $('#bulk-cancel-selected').disabled = selection.size === 0;
  const onPage = list.jobs.map((job) => job['request-instance-id']);
  const chosen = onPage.filter((id) => selection.has(id)).length;
  const all = $('#select-page');
  all.checked = onPage.length > 0 && chosen === onPage.length;
  all.indeterminate = chosen > 0 && chosen < onPage.length;
}

/** The list's filter as a bulk selection of jobs in `status`, or null when the status filter leaves it out. */
function filterSelection(status) {
  if (list.statuses.length > 0 && !list.statuses.includes(status)) return null;
  const target = { status };
  const value = list.value.trim();
  if (list.by === 'key') target.businessKey = value;
  if (list.by === 'command') target.command = value;
  if (list.by === 'container') target.containerId = value;
  if (list.by === 'process') target.processInstanceId = Number(value);
  return target;
}

function renderBulkButtons() {
  for (const [button, status] of [
    ['#bulk-requeue-errors', 'ERROR'],
    ['#bulk-cancel-queued', 'QUEUED'],
  ]) {
    const usable = filterSelection(status) !== null;
    $(button).disabled = !usable;
    $(button).title = usable ? '' : `The status filter leaves ${status} jobs out`;
  }
}

function filterText() {
  const names = {
    key: 'business key',
    command: 'command',
    container: 'container',
    process: 'process instance',
  };
  return list.by && list.value.trim() ? `with ${names[list.by]} ${list.value.trim()}` : 'of every command';
}

/** Says what a bulk action did, in the live region and in a box that stays. */
function bulkSummary(verb, result) {
  const parts = [
    `${verb} ${result.changed.length} of ${result.matched} job${result.matched === 1 ? '' : 's'}.`,
  ];
  if (result.refused.length > 0) {
    parts.push(
      `${result.refused.length} left as they were: ` +
        result.refused
          .slice(0, 5)
          .map((refused) => `job ${refused.id}: ${refused.reason}`)
          .join('; ') +
        (result.refused.length > 5 ? `; and ${result.refused.length - 5} more` : '') +
        '.',
    );
  }
  const text = parts.join(' ');
  const box = $('#bulk-result');
  box.hidden = false;
  box.replaceChildren(
    h('strong', {}, parts[0]),
    parts[1] ? h('span', {}, ` ${parts[1]}`) : '',
    h('button', { type: 'button', class: 'link', id: 'bulk-result-close' }, 'Dismiss'),
  );
  $('#bulk-result-close').addEventListener('click', () => (box.hidden = true));
  say(text, result.refused.length > 0 && result.changed.length === 0 ? 'error' : 'ok');
}

async function bulk(title, text, confirmLabel, verb, path, body) {
  live.busy = true;
  renderLive();
  try {
    if (!(await confirmAction(title, text, confirmLabel))) return;
    say('Working…');
    const result = await call('POST', path, body);
    for (const id of result.changed) selection.delete(id);
    bulkSummary(verb, result);
  } catch (error) {
    say(errorText(error), 'error');
  } finally {
    live.busy = false;
  }
  await loadList();
  refreshCounts();
}

function setupBulk() {
  $('#bulk-cancel-selected').addEventListener('click', () => {
    const ids = [...selection].sort((a, b) => a - b);
    bulk(
      `Cancel ${ids.length} selected job${ids.length === 1 ? '' : 's'}?`,
      `Jobs ${ids.slice(0, 10).join(', ')}${ids.length > 10 ? ', …' : ''}: the QUEUED, RETRYING and ERROR ` +
        'ones are cancelled and never run again; the others are left as they are.',
      'Cancel jobs',
      'Cancelled',
      '/kjobs/jobs/cancel',
      { ids },
    );
  });
  $('#bulk-requeue-errors').addEventListener('click', () => {
    const target = filterSelection('ERROR');
    if (!target) return;
    bulk(
      'Requeue the ERROR jobs matching the filter?',
      `Every ERROR job ${filterText()} (not only this page) goes back to QUEUED and runs again.`,
      'Requeue jobs',
      'Requeued',
      '/kjobs/jobs/requeue',
      target,
    );
  });
  $('#bulk-cancel-queued').addEventListener('click', () => {
    const target = filterSelection('QUEUED');
    if (!target) return;
    bulk(
      'Cancel the QUEUED jobs matching the filter?',
      `Every QUEUED job ${filterText()} (not only this page) is cancelled and never runs.`,
      'Cancel jobs',
      'Cancelled',
      '/kjobs/jobs/cancel',
      target,
    );
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Charts: SVG drawn here from GET .../server/kjobs/stats (the last hour by minute, or 24 hours by hour)

const SVG = 'http://www.w3.org/2000/svg';
const CHART_POLL_MS = 5000;
const charts = { range: 'hour', stats: null, timer: null };

function s(tag, attributes = {}, ...children) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== undefined && value !== null) element.setAttribute(name, String(value));
  }
  for (const child of children) element.append(child instanceof Node ? child : String(child));
  return element;
}

/** A round axis maximum: 1, 2, 5, 10, 20, 50... at least `max`. */
function niceMax(max) {
  if (max <= 4) return 4;
  const power = 10 ** Math.floor(Math.log10(max));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * power >= max) return step * power;
  return 10 * power;
}

const hhmm = (ms) => {
  const date = new Date(ms);
  return `${pad(date.getHours())}:${pad(date.getMinutes())}`;
};

/**
 * Draws lines with a point per value (null values are gaps without points) into `svg`, with a y axis from 0 and
 * time labels. `series`: [{ name, className, values }].
 */
function drawChart(svg, points, series, bucketMs) {
  const width = Math.max(260, Math.round(svg.parentElement.clientWidth || 600));
  const height = 200;
  const margin = { top: 12, right: 12, bottom: 28, left: 40 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const max = niceMax(Math.max(0, ...series.flatMap((one) => one.values.filter((v) => v !== null))));
  const x = (i) => margin.left + (points.length <= 1 ? 0 : (i * plotW) / (points.length - 1));
  const y = (v) => margin.top + plotH - (v / max) * plotH;
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.setAttribute('width', String(width));
  const desc = svg.querySelector('desc');
  svg.replaceChildren(desc);
  const axis = s('g', { class: 'axis' });
  for (const tick of [0, max / 2, max]) {
    axis.append(
      s('line', { x1: margin.left, x2: width - margin.right, y1: y(tick), y2: y(tick), class: 'grid' }),
      s('text', { x: margin.left - 6, y: y(tick) + 4, 'text-anchor': 'end' }, String(tick)),
    );
  }
  // Time labels: every 15 minutes (hour), every 6 hours (day); fewer on narrow screens.
  const every = (bucketMs === 60_000 ? 15 : 6) * (width < 420 ? 2 : 1);
  points.forEach((point, i) => {
    const at = Date.parse(point.at);
    const last = i === points.length - 1;
    if ((i % every === 0 && points.length - i > every / 3) || last) {
      axis.append(
        s('line', { x1: x(i), x2: x(i), y1: margin.top + plotH, y2: margin.top + plotH + 4, class: 'tick' }),
        s(
          'text',
          { x: x(i), y: height - 8, 'text-anchor': last ? 'end' : i === 0 ? 'start' : 'middle' },
          last ? 'now' : hhmm(at),
        ),
      );
    }
  });
  axis.append(
    s('line', {
      x1: margin.left,
      x2: width - margin.right,
      y1: margin.top + plotH,
      y2: margin.top + plotH,
      class: 'baseline',
    }),
  );
  svg.append(axis);
  for (const one of series) {
    const group = s('g', { class: `series ${one.className}`, 'data-series': one.className });
    let path = '';
    one.values.forEach((value, i) => {
      if (value === null) return;
      const previous = i > 0 ? one.values[i - 1] : null;
      path += `${previous === null || i === 0 ? 'M' : 'L'}${x(i).toFixed(1)},${y(value).toFixed(1)} `;
    });
    group.append(s('path', { d: path.trim() }));
    one.values.forEach((value, i) => {
      if (value === null) return;
      const at = Date.parse(points[i].at);
      const when = bucketMs === 60_000 ? hhmm(at) : `${hhmm(at)}–${hhmm(at + bucketMs)}`;
      group.append(
        s(
          'circle',
          { cx: x(i).toFixed(1), cy: y(value).toFixed(1), r: 2.5, 'data-value': value },
          s('title', {}, `${when}: ${value} ${one.name}`),
        ),
      );
    });
    svg.append(group);
  }
}

function renderCharts() {
  const stats = charts.stats;
  if (!stats) return;
  const perMinute = stats.range === 'hour';
  const points = stats.points;
  $('#finished-title').textContent = perMinute
    ? 'Jobs finished per minute, last hour'
    : 'Jobs finished per hour, last 24 hours';
  $('#waiting-title').textContent = perMinute
    ? 'Jobs waiting (queued + retrying), last hour'
    : 'Jobs waiting (queued + retrying, highest of each hour), last 24 hours';
  const done = points.map((p) => p.done);
  const error = points.map((p) => p.error);
  const waiting = points.map((p) => p.waiting);
  drawChart(
    $('#chart-finished'),
    points,
    [
      { name: 'done', className: 'done', values: done },
      { name: 'error', className: 'error', values: error },
    ],
    stats.bucketMs,
  );
  drawChart(
    $('#chart-waiting'),
    points,
    [{ name: 'waiting', className: 'waiting', values: waiting }],
    stats.bucketMs,
  );
  const sum = (values) => values.reduce((n, v) => n + (v ?? 0), 0);
  const span = perMinute ? 'the last hour' : 'the last 24 hours';
  $('#finished-desc').textContent = `${sum(done)} done and ${sum(error)} failed in ${span}.`;
  const lastWaiting = [...waiting].reverse().find((v) => v !== null);
  $('#waiting-desc').textContent =
    lastWaiting === undefined ? `No samples in ${span}.` : `${lastWaiting} waiting at the last sample.`;
  // The same numbers as a table (newest first), for screen readers and for reading exact values; only while open.
  if ($('.chart-numbers').open) renderChartTable();
  $('#charts-updated').textContent =
    `Updated ${formatDate(Date.now())}, live every ${CHART_POLL_MS / 1000} s.`;
}

function renderChartTable() {
  const stats = charts.stats;
  if (!stats) return;
  $('#chart-table tbody').replaceChildren(
    ...[...stats.points]
      .reverse()
      .map((point) =>
        h(
          'tr',
          {},
          h('th', { scope: 'row', dataset: { label: 'From' } }, dateElement(point.at)),
          h('td', { class: 'num', dataset: { label: 'Done' } }, point.done),
          h('td', { class: 'num', dataset: { label: 'Error' } }, point.error),
          h('td', { class: 'num', dataset: { label: 'Waiting' } }, point.waiting ?? '—'),
        ),
      ),
  );
}

async function loadCharts() {
  const range = charts.range;
  try {
    const stats = await call('GET', `/kjobs/stats?range=${range}`);
    if (range !== charts.range) return;
    charts.stats = stats;
    renderCharts();
  } catch (error) {
    $('#charts-updated').textContent = `Charts unavailable: ${errorText(error)}`;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Breakdown by command or container: GET .../server/kjobs/stats/breakdown; a row filters the table

const breakdown = { by: 'command' };

function duration(ms) {
  if (ms === null || ms === undefined) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  return `${(ms / 60_000).toFixed(1)} min`;
}

function filterBy(by, value) {
  $$('input[name="status"]', $('#filters')).forEach((input) => (input.checked = false));
  $('#filter-by').value = by;
  $('#filter-value').disabled = false;
  $('#filter-value').value = value;
  readFilters();
  list.page = 0;
  loadList();
  $('#list-title').scrollIntoView({ block: 'start' });
  say(`The table shows the jobs ${filterText()}.`);
}

async function loadBreakdown() {
  const by = breakdown.by;
  try {
    const answer = await call('GET', `/kjobs/stats/breakdown?by=${by}`);
    if (by !== breakdown.by) return;
    const label = by === 'command' ? 'Command' : 'Container';
    $('#breakdown-title').textContent = by === 'command' ? 'By command' : 'By container';
    $('#breakdown-key').textContent = label;
    $('#breakdown-caption').textContent =
      `Jobs by ${by}: counts per status, runs in the last hour, failure rate and run durations. ` +
      'Choose a row to filter the job table.';
    const body = $('#breakdown tbody');
    body.replaceChildren(
      ...answer.rows.map((row) => {
        const name = row.key ?? (by === 'container' ? '(no container)' : '—');
        const cell =
          row.key === null
            ? h('span', {}, name)
            : h(
                'button',
                {
                  type: 'button',
                  class: 'link filter-row',
                  'aria-label': `Show the jobs of ${by} ${row.key}`,
                },
                by === 'command' ? commandName(name) : name,
              );
        if (row.key !== null) cell.addEventListener('click', () => filterBy(by, row.key));
        const tr = h(
          'tr',
          { dataset: { key: row.key ?? '' }, class: row.key === null ? undefined : 'clickable' },
          h(
            'th',
            { scope: 'row', dataset: { label: label }, class: by === 'command' ? 'command' : undefined },
            cell,
          ),
          ...STATUSES.map((status) =>
            h(
              'td',
              { class: 'num', dataset: { label: status[0] + status.slice(1).toLowerCase() } },
              row.counts[status] ?? 0,
            ),
          ),
          h('td', { class: 'num', dataset: { label: 'Runs (1 h)' } }, row.runs),
          h(
            'td',
            { class: `num${row.failureRate > 0 ? ' bad' : ''}`, dataset: { label: 'Failure rate' } },
            row.failureRate === null ? '—' : `${Math.round(row.failureRate * 100)} %`,
          ),
          h('td', { class: 'num', dataset: { label: 'p50' } }, duration(row.p50Ms)),
          h('td', { class: 'num', dataset: { label: 'p95' } }, duration(row.p95Ms)),
        );
        // A click anywhere on the row does what its button does (the button is the keyboard's way).
        if (row.key !== null)
          tr.addEventListener('click', (event) => {
            if (event.target.closest('button')) return;
            filterBy(by, row.key);
          });
        return tr;
      }),
    );
    if (answer.rows.length === 0) {
      body.append(h('tr', { class: 'empty' }, h('td', { colspan: 11 }, 'No jobs yet.')));
    }
  } catch (error) {
    $('#breakdown tbody').replaceChildren(
      h('tr', { class: 'empty' }, h('td', { colspan: 11 }, `Unavailable: ${errorText(error)}`)),
    );
  }
}

/** The breakdown counts every job: asked for less often than the charts. */
const BREAKDOWN_POLL_MS = 15_000;
let breakdownAt = 0;

function pollDashboard() {
  clearTimeout(charts.timer);
  if (document.hidden || $('#view-list').hidden) return;
  const due = Date.now() - breakdownAt >= BREAKDOWN_POLL_MS - 100;
  if (due) breakdownAt = Date.now();
  Promise.all([loadCharts(), due ? loadBreakdown() : null]).finally(() => {
    clearTimeout(charts.timer);
    charts.timer = setTimeout(pollDashboard, CHART_POLL_MS);
  });
}
document.addEventListener('visibilitychange', pollDashboard);

function setupDashboard() {
  for (const input of $$('input[name="range"]')) {
    input.addEventListener('change', () => {
      charts.range = input.value;
      loadCharts();
    });
  }
  for (const input of $$('input[name="by"]')) {
    input.addEventListener('change', () => {
      breakdown.by = input.value;
      breakdownAt = Date.now();
      loadBreakdown();
    });
  }
  $('.chart-numbers').addEventListener('toggle', renderChartTable);
  let resizeTimer;
  window.addEventListener('resize', () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(renderCharts, 150);
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Find a job by id, from any page

function setupFind() {
  $('#find-job').addEventListener('submit', (event) => {
    event.preventDefault();
    const input = $('#find-id');
    const id = input.value.trim().replace(/^#/, '');
    if (!/^\d+$/.test(id)) {
      input.setAttribute('aria-invalid', 'true');
      say('A job id is a whole number.', 'error');
      input.focus();
      return;
    }
    input.removeAttribute('aria-invalid');
    input.value = '';
    if (location.hash === `#/jobs/${id}`) route();
    else location.hash = `#/jobs/${id}`;
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Routing: #/ (jobs), #/jobs/ID (one job), #/new (schedule), #/containers

function show(view) {
  for (const name of ['list', 'job', 'new', 'containers']) $(`#view-${name}`).hidden = name !== view;
  $('#view-activity').hidden = view !== 'list';
  $('#view-breakdown').hidden = view !== 'list';
  $('#job-actions').hidden = view !== 'job';
  const navs = { list: '#nav-jobs', new: '#nav-new', containers: '#nav-containers' };
  for (const [name, selector] of Object.entries(navs)) {
    $(selector).toggleAttribute('aria-current', view === name);
    if (view === name) $(selector).setAttribute('aria-current', 'page');
  }
}

let firstRoute = true;
function route() {
  const hash = location.hash || '#/';
  const job = /^#\/jobs\/(\d+)$/.exec(hash);
  clearTimeout(current.timer);
  if (job) {
    current = { id: Number(job[1]), job: null, timer: null };
    $('#job-title').textContent = `Job ${current.id}`;
    $('#job-body').replaceChildren(h('p', { class: 'hint' }, 'Loading…'));
    $('#update-data-json').value = '{}';
    show('job');
    if (!firstRoute) $('#job-title').focus();
    loadJob(current.id);
  } else if (hash === '#/containers') {
    current = { id: null, job: null, timer: null };
    show('containers');
    if (!firstRoute) $('#containers-title').focus();
    loadContainers();
    loadPaused();
  } else if (hash === '#/new') {
    current = { id: null, job: null, timer: null };
    show('new');
    if (!firstRoute) $('#new-title').focus();
  } else {
    current = { id: null, job: null, timer: null };
    show('list');
    loadList();
    pollDashboard();
  }
  firstRoute = false;
}

setupList();
setupJob();
setupSchedule();
setupDashboard();
setupFind();
setupPause();
window.addEventListener('hashchange', route);
route();
pollCounts();
pollList();
