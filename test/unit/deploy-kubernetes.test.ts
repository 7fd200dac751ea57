/**
 * deploy/kubernetes/: the manifests parsed, and the fields that make a sharded run work
 * checked against each other and against fleetbench's own options. No cluster is needed.
 */

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { parseAllDocuments } from 'yaml';

import { resolveShardArgs } from '../../src/cli/shard-options.js';
import { shardArgs } from '../helpers/shard-args.js';
import { parseScenarioText } from '../../src/scenario/parse-text.js';
import { planScenario } from '../../src/scenario/load.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const DEPLOY = path.join(ROOT, 'deploy/kubernetes');

type Obj = Record<string, unknown>;

async function manifest(file: string): Promise<Obj> {
  const docs = parseAllDocuments(await readFile(path.join(DEPLOY, file), 'utf8'));
  assert.ok(!Array.isArray(docs) || docs.length === 1, `${file}: one document`);
  const doc = Array.isArray(docs) ? docs[0] : docs;
  assert.deepEqual(doc?.errors ?? [], [], file);
  return doc?.toJS() as Obj;
}

/** `o.a.b.c` with a readable failure. */
function at(o: unknown, ...keys: (string | number)[]): unknown {
  let cur = o;
  for (const k of keys) {
    if (cur === null || typeof cur !== 'object') assert.fail(`no ${keys.join('.')}`);
    cur = (cur as Obj)[k as string];
  }
  return cur;
}

interface Container {
  args: string[];
  env: { name: string; value?: string; valueFrom?: { fieldRef: { fieldPath: string } } }[];
  volumeMounts: { name: string; mountPath: string; subPath?: string }[];
}

describe('deploy/kubernetes', () => {
  test('Indexed Job: completions = parallelism = FLEETBENCH_SHARDS, a shard per pod', async () => {
    const job = await manifest('job.yaml');
    assert.equal(job.kind, 'Job');
    assert.equal(job.apiVersion, 'batch/v1');
    assert.equal(at(job, 'spec', 'completionMode'), 'Indexed');
    const completions = at(job, 'spec', 'completions');
    assert.equal(at(job, 'spec', 'parallelism'), completions);
    assert.equal(at(job, 'spec', 'backoffLimitPerIndex'), 0);
    assert.equal(at(job, 'spec', 'template', 'spec', 'restartPolicy'), 'Never');

    const [c] = at(job, 'spec', 'template', 'spec', 'containers') as Container[];
    const env = new Map(c?.env.map((e) => [e.name, e]));
    assert.equal(env.get('FLEETBENCH_SHARDS')?.value, String(completions));
    assert.equal(
      env.get('FLEETBENCH_RUN_ID')?.valueFrom?.fieldRef.fieldPath,
      "metadata.labels['batch.kubernetes.io/controller-uid']",
    );
    assert.equal(env.get('FLEETBENCH_START_AT')?.value, '${START_AT}');

    // What fleetbench makes of pod 2's environment once the start is substituted.
    const startAt = new Date(Date.now() + 120_000).toISOString();
    const settings = resolveShardArgs(shardArgs({ 'report-json-line': true }), {
      JOB_COMPLETION_INDEX: '2',
      FLEETBENCH_SHARDS: env.get('FLEETBENCH_SHARDS')?.value,
      FLEETBENCH_RUN_ID: '3f2a9c1e-5b7d-4e0f-9a61-2c8d4b6e1f00',
      FLEETBENCH_START_AT: startAt,
    });
    assert.deepEqual(settings.shard, { index: 2, count: completions });
    assert.equal(settings.startAt?.toISOString(), startAt);

    const args = c?.args ?? [];
    assert.deepEqual(args.slice(0, 2), ['run', '/etc/fleetbench/scenario.yaml']);
    assert.ok(args.includes('--report-json-line'));
    assert.ok(!args.includes('--shard'), 'the index comes from JOB_COMPLETION_INDEX');
    const mounts = new Map(c?.volumeMounts.map((m) => [m.mountPath, m]));
    const out = args[args.indexOf('--out') + 1] ?? '';
    const certs = args[args.indexOf('--certs') + 1] ?? '';
    assert.equal(mounts.get(out)?.name, 'reports');
    assert.equal(mounts.get(certs)?.name, 'certs');
    assert.equal(mounts.get('/etc/fleetbench/scenario.yaml')?.subPath, 'scenario.yaml');
  });

  test('volumes name the ConfigMap, the Secret and the claim the other files define', async () => {
    const job = await manifest('job.yaml');
    const volumes = new Map(
      (at(job, 'spec', 'template', 'spec', 'volumes') as (Obj & { name: string })[]).map((v) => [
        v.name,
        v,
      ]),
    );
    const config = await manifest('scenario-configmap.yaml');
    const pvc = await manifest('reports-pvc.yaml');
    assert.equal(at(volumes.get('scenario'), 'configMap', 'name'), at(config, 'metadata', 'name'));
    assert.equal(
      at(volumes.get('reports'), 'persistentVolumeClaim', 'claimName'),
      at(pvc, 'metadata', 'name'),
    );
    assert.deepEqual(at(pvc, 'spec', 'accessModes'), ['ReadWriteMany']);
    assert.equal(at(volumes.get('certs'), 'secret', 'secretName'), 'fleetbench-certs');
    // Keys readable by the pod's user (fsGroup) only.
    assert.equal(at(volumes.get('certs'), 'secret', 'defaultMode'), 0o440);
  });

  test('the ConfigMap holds a valid scenario whose identity files are in the Secret', async () => {
    const config = await manifest('scenario-configmap.yaml');
    const text = at(config, 'data', 'scenario.yaml') as string;
    const raw = parseScenarioText(text, 'scenario-configmap.yaml');
    const plan = planScenario(raw, {
      file: '/etc/fleetbench/scenario.yaml',
      sha256: null,
      label: 'scenario-configmap.yaml',
    });
    assert.equal(plan.target.kind, 'url');
    const files = [plan.identity.caFile, plan.identity.certFile, plan.identity.keyFile];
    for (const f of files) assert.equal(path.dirname(f), '/etc/fleetbench/certs');
  });

  test('the image builds what tsconfig compiles and runs the CLI', async () => {
    const file = await readFile(path.join(DEPLOY, 'Dockerfile'), 'utf8');
    const tsconfig = JSON.parse(await readFile(path.join(ROOT, 'tsconfig.json'), 'utf8')) as {
      include: string[];
    };
    for (const dir of tsconfig.include.map((p) => p.split('/')[0] ?? '')) {
      assert.match(file, new RegExp(`^COPY ${dir} \\./${dir}$`, 'm'), `copies ${dir}`);
    }
    assert.match(file, /^ENTRYPOINT \["node", "\/app\/dist\/src\/cli\/main\.js"\]$/m);
    assert.match(file, /^USER node$/m);
    const ignore = await readFile(path.join(DEPLOY, 'Dockerfile.dockerignore'), 'utf8');
    for (const entry of ['certs', '*.key', 'node_modules']) {
      assert.ok(ignore.split('\n').includes(entry), `ignores ${entry}`);
    }
    const readme = await readFile(path.join(ROOT, 'README.md'), 'utf8');
    assert.match(readme, /\(docs\/kubernetes\.md\)/);
  });
});
