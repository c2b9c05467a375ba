/**
 * `kjobs hash-password [NAME]`: a salted scrypt hash of a password, for `--users-file`. The password is read from
 * standard input, never from the command line (which the process list and the shell history keep): typed twice
 * without echo on a terminal, else the first line of the input. With NAME, prints the whole users-file line.
 */
import { Command } from 'commander';
import { hashPassword } from '../http/passwords.js';

/** Standard streams, replaceable in tests. */
export interface HashPasswordIo {
  stdin: NodeJS.ReadStream;
  out: (text: string) => void;
  err: (text: string) => void;
}

const DEFAULT_IO: HashPasswordIo = {
  stdin: process.stdin,
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

/** All of a piped input, its first line without the line end. */
async function firstLine(stdin: NodeJS.ReadStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return (Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '').replace(/^\uFEFF/, '');
}

/** A line typed on the terminal without echo. */
function typedHidden(stdin: NodeJS.ReadStream, prompt: string, err: (text: string) => void): Promise<string> {
  // Echo off before the prompt shows: what is typed (or pasted) right after it must not appear.
  stdin.setRawMode(true);
  err(prompt);
  return new Promise((resolve, reject) => {
    let text = '';
    const finish = () => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.removeListener('data', onData);
      err('\n');
    };
    const onData = (chunk: Buffer | string) => {
      for (const char of String(chunk)) {
        if (char === '\r' || char === '\n') {
          finish();
          return resolve(text);
        }
        if (char === '\u0003' || char === '\u0004') {
          finish();
          return reject(new Error('cancelled'));
        }
        if (char === '\u007f' || char === '\b') text = text.slice(0, -1);
        else text += char;
      }
    };
    stdin.setEncoding('utf8');
    stdin.on('data', onData);
    stdin.resume();
  });
}

async function readPassword(io: HashPasswordIo): Promise<string> {
  if (!io.stdin.isTTY) return firstLine(io.stdin);
  const first = await typedHidden(io.stdin, 'Password: ', io.err);
  const again = await typedHidden(io.stdin, 'Again: ', io.err);
  if (first !== again) throw new Error('the two passwords differ');
  return first;
}

/** Adds `kjobs hash-password` to the program. */
export function registerHashPasswordCommand(program: Command, io: HashPasswordIo = DEFAULT_IO): Command {
  program
    .command('hash-password')
    .description(
      'print a salted scrypt hash of a password read from standard input, for --users-file ' +
        '(with NAME: the whole line NAME:HASH:ROLES)',
    )
    .argument('[name]', 'user name: print the users-file line')
    .option('--roles <roles>', 'roles of the line, comma-separated', 'kie-server')
    .action(async (name: string | undefined, options: { roles: string }) => {
      if (name !== undefined && (name === '' || /[:\s]/.test(name))) {
        io.err('kjobs hash-password: a user name cannot be empty or hold a colon or a space\n');
        process.exitCode = 2;
        return;
      }
      const roles = options.roles
        .split(',')
        .map((role) => role.trim())
        .filter(Boolean);
      if (roles.length === 0 || roles.some((role) => role.includes(':'))) {
        io.err('kjobs hash-password: --roles must be one or more roles, comma-separated\n');
        process.exitCode = 2;
        return;
      }
      let password: string;
      try {
        password = await readPassword(io);
      } catch (error) {
        io.err(`kjobs hash-password: ${(error as Error).message}\n`);
        process.exitCode = 1;
        return;
      }
      if (password === '') {
        io.err('kjobs hash-password: the password is empty (give it on standard input)\n');
        process.exitCode = 2;
        return;
      }
      const hash = await hashPassword(password);
      io.out(name === undefined ? `${hash}\n` : `${name}:${hash}:${roles.join(',')}\n`);
    });
  return program;
}
