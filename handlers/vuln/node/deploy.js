// PLANTED BUG (command-injection behind a computed prefix, SQS): `handler`
// runs each message made of the verb, a colon and a service name by
// pasting the name into a shell command, so a name followed by a
// semicolon and a command runs that command. The prefix is built at run
// time from the verb, so no literal of the code holds it (this comment
// quotes none either): only the operand of the startsWith test, which
// the bootstrap sees under lambkin fuzz, gives it to the fuzzer. The
// clean twin, `handlerSafe`, takes only the services it knows and runs
// the command without a shell.
'use strict';
const { execFileSync, execSync } = require('child_process');

const VERB = 'deploy';
const PREFIX = `${VERB}:`;
const SERVICES = new Set(['web', 'worker']);

function names(event) {
  return (event.Records || [])
    .filter((r) => typeof r.body === 'string' && r.body.startsWith(PREFIX))
    .map((r) => r.body.slice(PREFIX.length));
}

exports.handler = async (event) => {
  const done = names(event);
  for (const name of done) execSync(`echo deploying ${name}`, { stdio: 'ignore' });
  return { deployed: done.length };
};

exports.handlerSafe = async (event) => {
  const done = names(event).filter((n) => SERVICES.has(n));
  for (const name of done) execFileSync('echo', ['deploying', name], { stdio: 'ignore' });
  return { deployed: done.length };
};
