/**
 * Files of users, read at start-up (and again on SIGHUP):
 * - kjobs' users file (`--users-file`): one user a line, `NAME:HASH[:ROLE,ROLE]`, HASH a salted scrypt hash from
 *   `kjobs hash-password`; roles default to `kie-server`; blank lines and lines starting with `#` are skipped.
 * - KIE Server's (WildFly's) `application-users.properties` (`user=HEX(MD5(user:realm:password))`, the realm
 *   `ApplicationRealm` unless a `#$REALM_NAME=...$` line names another) and `application-roles.properties`
 *   (`user=role1,role2`), read as KIE's add-user.sh writes them.
 * A line that cannot be read is an error naming the file and the line; no message ever holds a password or hash.
 */
import { readFileSync } from 'node:fs';
import type { User } from './auth.js';
import { KIE_DEFAULT_REALM, parseScryptHash } from './passwords.js';

/** A users file that cannot be used; the message names the file (and the line, when one is at fault). */
export class UserFileError extends Error {
  override name = 'UserFileError';
}

/** Where users come from: the operator's settings. */
export interface UserSources {
  /** `--user` users (plain passwords). */
  users?: readonly User[];
  /** `--users-file`. */
  usersFile?: string | undefined;
  /** `--kie-users` (application-users.properties). */
  kieUsers?: string | undefined;
  /** `--kie-roles` (application-roles.properties). */
  kieRoles?: string | undefined;
}

function readText(path: string, flag: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const { code } = error as NodeJS.ErrnoException;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EACCES'
          ? 'permission denied'
          : code === 'EISDIR'
            ? 'it is a folder'
            : (error as Error).message;
    throw new UserFileError(`Cannot read ${path} (${flag}): ${why}`);
  }
}

const lines = (text: string) => text.replace(/^\uFEFF/, '').split(/\r?\n/);

/** Parses kjobs' users file; `path` names it in errors. */
export function parseUsersFile(text: string, path: string): User[] {
  const users: User[] = [];
  const seen = new Set<string>();
  lines(text).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const where = `${path}:${index + 1}`;
    const parts = line.split(':');
    const [name, hash, roleText] = parts;
    if (parts.length < 2 || parts.length > 3 || !name || !hash) {
      throw new UserFileError(
        `${where}: a line is NAME:HASH or NAME:HASH:ROLE,ROLE (HASH from kjobs hash-password)`,
      );
    }
    try {
      parseScryptHash(hash);
    } catch (error) {
      throw new UserFileError(`${where}: user ${name}: ${(error as Error).message}`);
    }
    const roles = roleText === undefined ? ['kie-server'] : splitRoles(roleText);
    if (roles.length === 0) throw new UserFileError(`${where}: user ${name}: no role after the last colon`);
    if (seen.has(name)) throw new UserFileError(`${where}: user ${name} is listed twice`);
    seen.add(name);
    users.push({ name, passwordHash: hash, roles });
  });
  return users;
}

const splitRoles = (text: string) =>
  text
    .split(',')
    .map((role) => role.trim())
    .filter(Boolean);

/** Unescapes a key of a Java properties file (`\=`, `\:`, `\ `, `\\`, `\uXXXX`). */
function unescapeKey(text: string): string {
  return text.replace(/\\(u[0-9a-fA-F]{4}|.)/g, (_, escaped: string) =>
    escaped.length === 5 ? String.fromCharCode(parseInt(escaped.slice(1), 16)) : escaped,
  );
}

/** Splits `key=value` (or `key: value`) at the first unescaped `=` or `:`; undefined without one. */
function keyValue(line: string): [string, string] | undefined {
  const match = /^((?:[^=:\\]|\\.)*?)\s*[=:]\s*(.*)$/.exec(line);
  if (!match || !match[1]) return undefined;
  return [unescapeKey(match[1].trim()), (match[2] as string).trim()];
}

/** Parses `application-users.properties`: the users with their MD5 digests, in the file's realm. */
export function parseKieUsers(text: string, path: string): Map<string, { hex: string; realm: string }> {
  let realm = KIE_DEFAULT_REALM;
  const users = new Map<string, { hex: string; realm: string }>();
  lines(text).forEach((raw, index) => {
    const line = raw.trim();
    const realmLine = /^#\$REALM_NAME=(.*)\$$/.exec(line);
    if (realmLine) {
      realm = realmLine[1] as string;
      return;
    }
    // Comments, and users disabled by add-user.sh (written as `#user=...`).
    if (line === '' || line.startsWith('#') || line.startsWith('!')) return;
    const where = `${path}:${index + 1}`;
    const pair = keyValue(line);
    if (!pair) throw new UserFileError(`${where}: a line is user=HEX(MD5(user:${realm}:password))`);
    const [name, hex] = pair;
    if (!/^[0-9a-f]{32}$/i.test(hex)) {
      throw new UserFileError(
        `${where}: user ${name}: the password digest is not 32 hexadecimal digits (HEX(MD5(user:${realm}:password)))`,
      );
    }
    users.set(name, { hex: hex.toLowerCase(), realm });
  });
  return users;
}

/** Parses `application-roles.properties`: roles by user. */
export function parseKieRoles(text: string, path: string): Map<string, string[]> {
  const roles = new Map<string, string[]>();
  lines(text).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith('!')) return;
    const pair = keyValue(line);
    if (!pair) throw new UserFileError(`${path}:${index + 1}: a line is user=role1,role2`);
    roles.set(pair[0], splitRoles(pair[1]));
  });
  return roles;
}

/** KIE's users with their roles (a user without a line in the roles file has none: 403, as on KIE Server). */
export function kieUsersOf(usersPath: string, rolesPath: string): User[] {
  const digests = parseKieUsers(readText(usersPath, '--kie-users'), usersPath);
  if (digests.size === 0) throw new UserFileError(`${usersPath} (--kie-users) holds no user`);
  const roles = parseKieRoles(readText(rolesPath, '--kie-roles'), rolesPath);
  return [...digests].map(([name, kieDigest]) => ({ name, kieDigest, roles: roles.get(name) ?? [] }));
}

/**
 * Every user of the settings: `--user`, `--users-file`, `--kie-users` with `--kie-roles`. Throws UserFileError on
 * a file that cannot be read or used, on `--kie-users` without `--kie-roles` (or the other way round), and on a
 * user name given by two sources.
 */
export function loadUsers(sources: UserSources): User[] {
  const all: { user: User; from: string }[] = (sources.users ?? []).map((user) => ({ user, from: '--user' }));
  if (sources.usersFile) {
    const path = sources.usersFile;
    const users = parseUsersFile(readText(path, '--users-file'), path);
    // An empty file must not turn authentication off (or, on a reload, be refused for it): say so.
    if (users.length === 0)
      throw new UserFileError(
        `${path} (--users-file) holds no user: add NAME:HASH lines (kjobs hash-password)`,
      );
    for (const user of users) all.push({ user, from: path });
  }
  if (Boolean(sources.kieUsers) !== Boolean(sources.kieRoles)) {
    throw new UserFileError(
      'KIE users need both files: --kie-users application-users.properties and --kie-roles application-roles.properties',
    );
  }
  if (sources.kieUsers && sources.kieRoles) {
    for (const user of kieUsersOf(sources.kieUsers, sources.kieRoles))
      all.push({ user, from: sources.kieUsers });
  }
  const from = new Map<string, string>();
  for (const { user, from: source } of all) {
    const earlier = from.get(user.name);
    if (earlier !== undefined)
      throw new UserFileError(`User ${user.name} is given twice: by ${earlier} and by ${source}`);
    from.set(user.name, source);
  }
  return all.map(({ user }) => user);
}
