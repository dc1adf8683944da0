/**
 * The dashboard's entry point: log in (a token from the URL fragment, this tab's
 * sessionStorage, or the form), check it with GET /v1/info, then run the dashboard
 * until the user logs out or the daemon refuses the token (revoked, expired).
 */
import { Api, ApiError, describe } from './api.js';
import { byId, setText } from './dom.js';
import { Dashboard } from './dashboard.js';
import { plain } from './format.js';
import { forgetToken, savedToken, saveNotice, saveToken, takeNotice, takeTokenFromFragment, tokenProblem } from './session.js';
import { ROLES, record, type Info, type Role } from './types.js';

const loginView = byId('login-view', HTMLElement);
const loginForm = byId('login-form', HTMLFormElement);
const loginInput = byId('login-token', HTMLInputElement);
const loginButton = byId('login-submit', HTMLButtonElement);
const loginError = byId('login-error', HTMLElement);
const dashboardView = byId('dashboard', HTMLElement);
const whoami = byId('whoami', HTMLElement);
const daemon = byId('daemon', HTMLElement);
const logoutButton = byId('logout', HTMLButtonElement);

let current: Dashboard | undefined;

/** GET /v1/info's answer, checked. @throws ApiError when the daemon answers something else */
function info(answer: unknown): Info {
  const body = record(answer);
  const role = body['role'];
  if (typeof role !== 'string' || !(ROLES as readonly string[]).includes(role)) throw new ApiError(200, 'UNEXPECTED', 'the daemon\'s /v1/info answer has no role');
  return { version: plain(body['version'], 40), pid: typeof body['pid'] === 'number' ? body['pid'] : 0, startedAt: plain(body['startedAt'], 40), principal: plain(body['principal'], 80), role: role as Role };
}

function showLogin(message?: string): void {
  dashboardView.hidden = true;
  loginView.hidden = false;
  logoutButton.hidden = true;
  setText(whoami, '');
  setText(daemon, '');
  loginError.hidden = message === undefined;
  setText(loginError, message ?? '');
  loginButton.disabled = false;
  loginInput.focus();
}

/**
 * Logs out: forgets the token and reloads the page, so nothing of the session (rows,
 * streams, timers, listeners holding the old token) survives into the next one.
 */
function logOut(message?: string): void {
  current?.stop();
  current = undefined;
  forgetToken();
  if (message !== undefined) saveNotice(message);
  location.reload();
}

/** Logs in with `token`; on failure shows why on the login form. */
async function logIn(token: string): Promise<void> {
  const problem = tokenProblem(token);
  if (problem !== undefined) {
    showLogin(problem);
    return;
  }
  loginButton.disabled = true;
  const api = new Api(token, (error) => {
    // The daemon refused the token mid-session (revoked or expired).
    if (current !== undefined) logOut(`The daemon no longer accepts this token (${error.code}): log in again.`);
  });
  let who: Info;
  try {
    who = info(await api.get('/v1/info'));
  } catch (error) {
    forgetToken();
    showLogin(error instanceof ApiError && error.status === 401 ? `The daemon refused this token: ${describe(error)}` : `Could not log in: ${describe(error)}`);
    return;
  }
  saveToken(token);
  loginInput.value = '';
  loginView.hidden = true;
  dashboardView.hidden = false;
  logoutButton.hidden = false;
  setText(whoami, `${who.principal} (${who.role})`);
  setText(daemon, `daemon ${who.version}, pid ${who.pid}`);
  document.body.dataset['role'] = who.role;
  current = new Dashboard(api, who);
  current.start();
}

loginForm.addEventListener('submit', (event) => {
  // SECURITY: never let the browser submit the form: the token must not go into a URL.
  event.preventDefault();
  void logIn(loginInput.value.trim());
});
logoutButton.addEventListener('click', () => logOut());

const token = takeTokenFromFragment() ?? savedToken();
if (token === undefined) showLogin(takeNotice());
else void logIn(token);
