import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { parseFallbackConfig } from '../../apps/gateway/src/config/fallback-config';
import { exposedMode } from '../../apps/gateway/src/config/file-mode';
import { KNOWN_ENV_NAMES, SERVICE_NAMES } from '../../apps/gateway/src/config/gateway-config';
import { parseDirectory } from '../../libs/directory/src';

/**
 * deploy/k8s rendered with kustomize (`kubectl kustomize`, which CI has) and every object checked
 * against the Kubernetes schemas of the kubernetes-models package, then against what the gateway needs.
 */
const ROOT = join(__dirname, '../..');
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'apps/v1/Deployment': Deployment,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
};

type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; labels?: Record<string, string> }; [key: string]: unknown };
type Container = {
  env?: Array<{ name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string } } }>;
  envFrom?: Array<{ configMapRef?: { name: string }; secretRef?: { name: string } }>;
  startupProbe?: { httpGet?: { path: string; scheme?: string } };
  livenessProbe?: { httpGet?: { path: string; scheme?: string } };
  readinessProbe?: { httpGet?: { path: string; scheme?: string } };
  volumeMounts?: Array<{ name: string; mountPath: string }>;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  image: string;
};
type DeploymentObject = K8sObject & {
  spec: {
    replicas: number;
    selector: { matchLabels: Record<string, string> };
    template: {
      metadata: { annotations?: Record<string, string> };
      spec: {
        containers: Container[];
        securityContext?: { runAsUser?: number; runAsGroup?: number; fsGroup?: number };
        volumes?: Array<{ name: string; configMap?: { name: string }; secret?: { secretName: string; optional?: boolean; defaultMode?: number } }>;
      };
    };
  };
};

const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
const haveKustomize = kubectl.status === 0;
if (!haveKustomize && process.env['CI'] !== undefined) throw new Error('kubectl (for kustomize) is missing: .ci/run installs it');

function render(dir: string): K8sObject[] {
  const run = spawnSync('kubectl', ['kustomize', join(ROOT, dir)], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`kustomize ${dir}: ${run.stderr}`);
  const docs = parseAllDocuments(run.stdout);
  for (const doc of docs) if (doc.errors.length > 0) throw new Error(doc.errors.map((e) => e.message).join('\n'));
  return docs.map((d) => {
    const object = d.toJS() as K8sObject & { data?: Record<string, string> };
    // kustomize folds long base64 values over lines, which the API server's decoder skips (Go's
    // base64 ignores line breaks) but the schema's "byte" format does not.
    if (object.kind === 'Secret' && object.data) for (const key of Object.keys(object.data)) object.data[key] = object.data[key]!.replace(/\s+/g, '');
    return object;
  });
}

function validate(object: K8sObject): void {
  const Model = MODELS[`${object.apiVersion}/${object.kind}`];
  if (Model === undefined) throw new Error(`no schema for ${object.apiVersion} ${object.kind}`);
  new Model(object as never).validate();
}

(haveKustomize ? describe : describe.skip)('deploy/k8s', () => {
  it('the schema check refuses an invalid object (so the checks below can fail)', () => {
    const bad = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' }, spec: { replicas: 'two', selector: {}, template: {} } };
    expect(() => validate(bad as unknown as K8sObject)).toThrow();
  });

  for (const dir of ['deploy/k8s/base', 'deploy/k8s/overlays/example', 'deploy/k8s/overlays/example-https']) {
    it(`${dir} renders, and every object passes the Kubernetes schema`, () => {
      const objects = render(dir);
      expect(objects.length).toBeGreaterThanOrEqual(SERVICE_NAMES.length * 2);
      for (const object of objects) {
        try {
          validate(object);
        } catch (error) {
          throw new Error(`${object.kind} ${object.metadata.name}: ${(error as Error).message}`);
        }
      }
    });
  }

  it('with components/https, probes and scraping go over HTTPS and the certificate and key are in the mounted Secret', () => {
    const objects = render('deploy/k8s/overlays/example-https');
    const settings = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('svu-settings')) as K8sObject & { data: Record<string, string> };
    expect(settings.data).toMatchObject({ SVU_TLS_CERT: '/etc/svu/tls/tls.crt', SVU_TLS_KEY: '/etc/svu/tls/tls.key' });
    const tls = objects.find((o) => o.kind === 'Secret' && o.metadata.name.startsWith('svu-tls')) as K8sObject & { data: Record<string, string> };
    expect(Object.keys(tls.data).sort()).toEqual(['ca.crt', 'tls.crt', 'tls.key']);
    const deployments = objects.filter((o): o is DeploymentObject => o.kind === 'Deployment');
    expect(deployments).toHaveLength(SERVICE_NAMES.length);
    for (const d of deployments) {
      const [c] = d.spec.template.spec.containers;
      expect([d.metadata.name, c!.startupProbe?.httpGet?.scheme, c!.livenessProbe?.httpGet?.scheme, c!.readinessProbe?.httpGet?.scheme]).toEqual([d.metadata.name, 'HTTPS', 'HTTPS', 'HTTPS']);
      expect(d.spec.template.metadata.annotations?.['prometheus.io/scheme']).toBe('https');
      const volume = d.spec.template.spec.volumes!.find((v) => v.secret?.secretName === tls.metadata.name);
      expect(c!.volumeMounts!.find((m) => m.name === volume?.name)?.mountPath).toBe('/etc/svu/tls');
    }
  });

  describe('the example overlay', () => {
    const objects = haveKustomize ? render('deploy/k8s/overlays/example') : [];
    const deployments = objects.filter((o): o is DeploymentObject => o.kind === 'Deployment');
    const names = (kind: string) => new Set(objects.filter((o) => o.kind === kind).map((o) => o.metadata.name));

    it('runs each service as its own Deployment with replicas, probes and resources', () => {
      const services = deployments.map((d) => d.spec.template.spec.containers[0]!.env!.find((e) => e.name === 'SVU_SERVICES')!.value);
      expect(services.sort()).toEqual([...SERVICE_NAMES].sort());
      for (const d of deployments) {
        const [container] = d.spec.template.spec.containers;
        expect(d.spec.replicas).toBeGreaterThanOrEqual(2);
        expect(container!.livenessProbe?.httpGet?.path).toBe('/health/live');
        expect(container!.readinessProbe?.httpGet?.path).toBe('/health/ready');
        expect(container!.resources?.requests?.['memory']).toBeDefined();
        expect(container!.resources?.limits?.['memory']).toBeDefined();
        expect(container!.image).toMatch(/^registry\.region\.example\/svu\/svu-gateway:/);
      }
    });

    it('gives every Deployment a PodDisruptionBudget that selects its pods', () => {
      const pdbs = objects.filter((o) => o.kind === 'PodDisruptionBudget') as Array<K8sObject & { spec: { selector: { matchLabels: Record<string, string> } } }>;
      for (const d of deployments) {
        const match = pdbs.find((p) => JSON.stringify(p.spec.selector.matchLabels) === JSON.stringify(d.spec.selector.matchLabels));
        expect(`${d.metadata.name}: ${match === undefined ? 'no PDB' : 'PDB'}`).toBe(`${d.metadata.name}: PDB`);
      }
    });

    it('sets only known environment variables and refers only to ConfigMaps and Secrets it has', () => {
      const configMaps = names('ConfigMap');
      const secrets = names('Secret');
      for (const d of deployments) {
        const spec = d.spec.template.spec;
        for (const c of spec.containers) {
          for (const e of c.env ?? []) {
            expect(KNOWN_ENV_NAMES).toContain(e.name);
            if (e.valueFrom?.secretKeyRef) expect(secrets).toContain(e.valueFrom.secretKeyRef.name);
          }
          for (const from of c.envFrom ?? []) {
            if (from.configMapRef) expect(configMaps).toContain(from.configMapRef.name);
            if (from.secretRef) expect(secrets).toContain(from.secretRef.name);
          }
        }
        for (const v of spec.volumes ?? []) {
          if (v.configMap) expect(configMaps).toContain(v.configMap.name);
          if (v.secret && v.secret.optional !== true) expect(secrets).toContain(v.secret.secretName);
        }
      }
      for (const cm of objects.filter((o) => o.kind === 'ConfigMap') as Array<K8sObject & { data: Record<string, string> }>) {
        if (!cm.metadata.name.startsWith('svu-settings')) continue;
        for (const key of Object.keys(cm.data)) expect(KNOWN_ENV_NAMES).toContain(key);
      }
      const connections = objects.find((o) => o.kind === 'Secret' && o.metadata.name.startsWith('svu-connections')) as K8sObject & { data: Record<string, string> };
      for (const key of Object.keys(connections.data)) expect(KNOWN_ENV_NAMES).toContain(key);
    });

    it('mounts the users and senders files so that the gateway can read them and does not warn that others can', () => {
      let checked = 0;
      for (const d of deployments) {
        const spec = d.spec.template.spec;
        const [c] = spec.containers;
        const { runAsUser, runAsGroup, fsGroup } = spec.securityContext ?? {};
        for (const variable of ['SVU_USERS', 'SVU_SENDERS']) {
          const path = c!.env?.find((e) => e.name === variable)?.value;
          if (path === undefined) continue;
          const mount = c!.volumeMounts!.find((m) => path.startsWith(`${m.mountPath}/`));
          const secret = spec.volumes?.find((v) => v.name === mount?.name)?.secret;
          expect(`${d.metadata.name} ${variable}: ${secret === undefined ? 'no Secret mounted' : secret.secretName}`).toMatch(/: svu-/);
          // The kubelet makes a secret volume's files root's, with the pod's fsGroup as their group.
          const file = { mode: secret!.defaultMode ?? 0o644, uid: 0, gid: fsGroup ?? 0 };
          const gateway = { uid: runAsUser ?? 0, groups: [runAsGroup ?? 0, ...(fsGroup === undefined ? [] : [fsGroup])] };
          expect([d.metadata.name, variable, (file.mode & 0o040) !== 0 && gateway.groups.includes(file.gid), exposedMode(file, gateway)]).toEqual([d.metadata.name, variable, true, false]);
          checked += 1;
        }
      }
      expect(checked).toBeGreaterThanOrEqual(2);
    });

    it('lists several RabbitMQ nodes in AMQP_URL, and its unit directory passes the schema', () => {
      const connections = objects.find((o) => o.kind === 'Secret' && o.metadata.name.startsWith('svu-connections')) as K8sObject & { data: Record<string, string> };
      const amqp = Buffer.from(connections.data['AMQP_URL']!, 'base64').toString('utf8');
      expect(amqp.split(',').length).toBeGreaterThanOrEqual(3);
      const config = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('svu-config')) as K8sObject & { data: Record<string, string> };
      expect(parseDirectory(config.data['directory.json']!).ok).toBe(true);
    });

    it('carries the unit directory, the report rules and the fallback delays in svu-config, where the settings point every service', () => {
      const config = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('svu-config')) as K8sObject & { data: Record<string, string> };
      const settings = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('svu-settings')) as K8sObject & { data: Record<string, string> };
      expect(Object.keys(config.data).sort()).toEqual(['directory.json', 'fallback.json', 'report-rules.json']);
      expect(settings.data).toMatchObject({
        SVU_DIRECTORY: '/etc/svu/config/directory.json',
        SVU_REPORT_RULES: '/etc/svu/config/report-rules.json',
        SVU_FALLBACK_CONFIG: '/etc/svu/config/fallback.json',
      });
      const fallback = parseFallbackConfig(config.data['fallback.json']!);
      expect(fallback.ok ? 'passes' : fallback.problems).toBe('passes');
      for (const d of deployments) {
        const spec = d.spec.template.spec;
        const [c] = spec.containers;
        expect(c!.envFrom?.some((from) => from.configMapRef?.name === settings.metadata.name)).toBe(true);
        const volume = spec.volumes?.find((v) => v.configMap?.name === config.metadata.name);
        expect(`${d.metadata.name}: ${c!.volumeMounts?.find((m) => m.name === volume?.name)?.mountPath}`).toBe(`${d.metadata.name}: /etc/svu/config`);
      }
    });
  });
});
