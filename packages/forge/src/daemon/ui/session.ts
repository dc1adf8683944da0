/**
 * Where the dashboard keeps the token: the tab's sessionStorage (gone when the tab
 * closes; not shared with other tabs; never sent anywhere by the browser on its own).
 *
 * A token may arrive in the URL fragment (`/ui#token=fo_...`, as `npm start` prints it):
 * the fragment never leaves the browser (it is not part of the request), and the page
 * takes the token out of it at once, so it stays in neither the address bar nor history.
 */

const KEY = 'forgeone.token';
const NOTICE = 'forgeone.notice';

/** What a token looks like to the daemon: printable ASCII, at most 200 characters. */
const TOKEN = /^[\x21-\x7e]{1,200}$/;

/** Why `token` cannot be a token, or undefined when it can be one. */
export function tokenProblem(token: string): string | undefined {
  if (token === '') return 'enter an API token (forge token create NAME --role viewer|operator|admin prints one)';
  if (!TOKEN.test(token)) return 'a token is 1 to 200 printable ASCII characters without spaces; this one is not';
  return undefined;
}

/** Takes a token out of the URL fragment (`#token=...`), removing it from the address bar. */
export function takeTokenFromFragment(): string | undefined {
  const fragment = location.hash.replace(/^#/, '');
  if (fragment === '') return undefined;
  const token = new URLSearchParams(fragment).get('token');
  history.replaceState(null, '', `${location.pathname}${location.search}`);
  return token === null || token === '' ? undefined : token;
}

/** The token this tab logged in with, if any. */
export function savedToken(): string | undefined {
  try {
    return sessionStorage.getItem(KEY) ?? undefined;
  } catch {
    return undefined;
  }
}

/** Keeps `token` for this tab. */
export function saveToken(token: string): void {
  try {
    sessionStorage.setItem(KEY, token);
  } catch {
    // Storage disabled: the session lasts until the page is reloaded.
  }
}

/** Forgets the token (log out, or the daemon refused it). */
export function forgetToken(): void {
  try {
    sessionStorage.removeItem(KEY);
  } catch {
    // Nothing was stored.
  }
}

/** Keeps a message for the login form after the page reloads (why the session ended). */
export function saveNotice(message: string): void {
  try {
    sessionStorage.setItem(NOTICE, message);
  } catch {
    // The login form shows without it.
  }
}

/** The message kept by {@link saveNotice}, once. */
export function takeNotice(): string | undefined {
  try {
    const message = sessionStorage.getItem(NOTICE) ?? undefined;
    sessionStorage.removeItem(NOTICE);
    return message;
  } catch {
    return undefined;
  }
}
