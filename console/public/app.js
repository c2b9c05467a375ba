// The kjobs console: plain ES module, no framework, no network access beyond this server.
// It uses KIE Server's jobs API (JSON) with the browser's basic-auth credentials, and /console/api/counts.

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

const list = { statuses: [], by: '', value: '', page: 0, pageSize: 20, descending: true, jobs: [] };

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

async function loadList() {
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
  try {
    const answer = await call('GET', listPath());
    list.jobs = (answer && answer['request-info-instance']) || [];
    renderList();
  } catch (error) {
    list.jobs = [];
    renderList();
    say(errorText(error), 'error');
  }
}

function scheduledMs(job) {
  const date = toDate(job['request-scheduled-date']);
  return date ? date.getTime() : 0;
}

function renderList() {
  const jobs = [...list.jobs].sort((a, b) => {
    const diff = scheduledMs(a) - scheduledMs(b) || a['request-instance-id'] - b['request-instance-id'];
    return list.descending ? -diff : diff;
  });
  const body = $('#jobs tbody');
  body.replaceChildren(
    ...jobs.map((job) => {
      const id = job['request-instance-id'];
      return h(
        'tr',
        {},
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
    }),
  );
  if (jobs.length === 0) {
    body.append(
      h('tr', { class: 'empty' }, h('td', { colspan: 8 }, 'No jobs match these filters on this page.')),
    );
  }
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
    const job = await call('GET', `/jobs/${id}?withErrors=true&withData=true`);
    if (current.id !== id) return;
    current.job = job;
    renderJob(job);
    await renderExtensions(id);
    // Follow the job while it may still change.
    if (!FINAL.has(job['request-status']))
      current.timer = setTimeout(() => loadJob(id, { quiet: true }), POLL_MS);
  } catch (error) {
    if (current.id !== id) return;
    if (!quiet) $('#job-body').replaceChildren(h('p', {}, 'This job could not be loaded.'));
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
    const answer = await call('GET', '/containers');
    const containers = answer?.result?.['kie-containers']?.['kie-container'] ?? [];
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
          h('td', { dataset: { label: 'Status' } }, h('span', { class: 'badge s-done' }, container.status)),
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

// ---------------------------------------------------------------------------------------------------------------
// Routing: #/ (jobs), #/jobs/ID (one job), #/new (schedule), #/containers

function show(view) {
  for (const name of ['list', 'job', 'new', 'containers']) $(`#view-${name}`).hidden = name !== view;
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
  } else if (hash === '#/new') {
    current = { id: null, job: null, timer: null };
    show('new');
    if (!firstRoute) $('#new-title').focus();
  } else {
    current = { id: null, job: null, timer: null };
    show('list');
    loadList();
  }
  firstRoute = false;
}

setupList();
setupJob();
setupSchedule();
window.addEventListener('hashchange', route);
route();
pollCounts();
