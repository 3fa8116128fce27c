/**
 * A local certificate authority for TLS tests, made with the openssl command line (Debian's): a CA, and server or
 * client certificates it signs with chosen names and validity (past dates included, for expired certificates).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** PEM texts of a certificate and its key. */
export interface Pem {
  readonly cert: string;
  readonly key: string;
}

/** A test CA. */
export interface TestCA extends Pem {
  /** Signs a certificate for `cn` with DNS `names`; `days` may start in the past (`from` days ago). */
  issue(
    cn: string,
    options?: { names?: string[]; usage?: 'server' | 'client'; fromDaysAgo?: number; days?: number },
  ): Pem;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

function stamp(date: Date): string {
  return `${date.toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;
}

/** Creates a CA in a temporary directory. */
export function createCA(name = 'modelgate test CA'): TestCA {
  const dir = mkdtempSync(join(tmpdir(), 'modelgate-ca-'));
  openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
      '-days',
      '30',
      '-subj',
      `/CN=${name}`,
    ],
    dir,
  );
  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(join(dir, 'serial'), '1000\n');
  writeFileSync(
    join(dir, 'ca.cnf'),
    `[ca]\ndefault_ca = local\n[local]\ndir = .\ndatabase = index.txt\nnew_certs_dir = .\nserial = serial\ncertificate = ca.crt\nprivate_key = ca.key\ndefault_md = sha256\npolicy = any\nunique_subject = no\ncopy_extensions = none\n[any]\ncommonName = supplied\n`,
  );
  let n = 0;
  return {
    cert: readFileSync(join(dir, 'ca.crt'), 'utf8'),
    key: readFileSync(join(dir, 'ca.key'), 'utf8'),
    issue(cn, options = {}) {
      const id = `c${n++}`;
      const names = options.names ?? [cn];
      openssl(
        [
          'req',
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:prime256v1',
          '-nodes',
          '-keyout',
          `${id}.key`,
          '-out',
          `${id}.csr`,
          '-subj',
          `/CN=${cn}`,
        ],
        dir,
      );
      const usage = options.usage === 'client' ? 'clientAuth' : 'serverAuth';
      writeFileSync(
        join(dir, `${id}.ext`),
        `basicConstraints = CA:FALSE\nextendedKeyUsage = ${usage}\n${options.usage === 'client' ? '' : `subjectAltName = ${names.map((x) => `DNS:${x}`).join(',')}\n`}`,
      );
      const start = new Date(Date.now() - (options.fromDaysAgo ?? 1) * 86_400_000);
      const end = new Date(start.getTime() + (options.days ?? 10) * 86_400_000);
      openssl(
        [
          'ca',
          '-batch',
          '-config',
          'ca.cnf',
          '-startdate',
          stamp(start),
          '-enddate',
          stamp(end),
          '-extfile',
          `${id}.ext`,
          '-in',
          `${id}.csr`,
          '-out',
          `${id}.crt`,
          '-notext',
        ],
        dir,
      );
      return { cert: readFileSync(join(dir, `${id}.crt`), 'utf8'), key: readFileSync(join(dir, `${id}.key`), 'utf8') };
    },
  };
}

/** A `kubernetes.io/tls` Secret in YAML. */
export function tlsSecretYaml(name: string, pem: Pem, ca?: string): string {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  return `apiVersion: v1\nkind: Secret\nmetadata: {name: ${name}}\ntype: kubernetes.io/tls\ndata:\n  tls.crt: ${b64(pem.cert)}\n  tls.key: ${b64(pem.key)}\n${ca ? `  ca.crt: ${b64(ca)}\n` : ''}`;
}
