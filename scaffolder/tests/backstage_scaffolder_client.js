// Drives a running Callboard with Backstage's own ScaffolderClient (@backstage/plugin-scaffolder-common) and
// prints what each method answered as one JSON object (scaffolder/tests/test_backstage_client.py asserts it).
// Configured by the environment: CLIENT_DIR (the npm install), BASE_URL, TOKEN, USER_REF.
'use strict';

const path = require('path');
const { ScaffolderClient } = require(
  path.join(process.env.CLIENT_DIR, 'node_modules', '@backstage', 'plugin-scaffolder-common'),
);

// The event stream's library (@microsoft/fetch-event-source) expects a browser's window and document.
global.window = global;
global.document = { hidden: false, addEventListener() {}, removeEventListener() {} };

const base = process.env.BASE_URL;
const token = process.env.TOKEN;
// Backstage's fetchApi adds the user's token to every request; the event stream relies on it.
const fetchApi = {
  fetch: (url, init = {}) => {
    const headers = new Headers(init.headers || {});
    headers.set('Authorization', `Bearer ${token}`);
    return fetch(url, { ...init, headers });
  },
};
const discoveryApi = { getBaseUrl: async () => `${base}/api/scaffolder` };
const identityApi = { getBackstageIdentity: async () => ({ userEntityRef: process.env.USER_REF }) };
const out = {};

async function failure(promise) {
  try {
    await promise;
    return null;
  } catch (e) {
    return { name: e.name, status: e.response?.status, errorName: e.body?.error?.name, message: e.message };
  }
}

async function until(what, check, seconds = 90) {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise(resolve => setTimeout(resolve, 100));
  }
}

function stream(client, request) {
  return new Promise((resolve, reject) => {
    const events = [];
    client.streamLogs(request).subscribe({
      next: event => events.push(event),
      error: reject,
      complete: () => resolve(events),
    });
  });
}

async function integrationsApi() {
  // getIntegrationsList reads the app's ScmIntegrationsApi; here it is built from Callboard's integrations list.
  const response = await fetchApi.fetch(`${base}/api/scaffolder/v2/integrations/list`);
  const { integrations } = await response.json();
  const of = type => ({
    list: () => integrations.filter(i => i.type === type).map(i => ({ type, title: i.title, config: { host: i.host } })),
  });
  return {
    azure: of('azure'), bitbucketCloud: of('bitbucketCloud'), bitbucketServer: of('bitbucketServer'),
    gerrit: of('gerrit'), gitea: of('gitea'), github: of('github'), gitlab: of('gitlab'),
  };
}

async function main() {
  const client = new ScaffolderClient({ discoveryApi, fetchApi, identityApi, scmIntegrationsApi: await integrationsApi() });
  const polling = new ScaffolderClient({ discoveryApi, fetchApi, identityApi, useLongPollingLogs: true,
                                         scmIntegrationsApi: await integrationsApi() });

  out.parameterSchema = await client.getTemplateParameterSchema('template:default/quick');
  out.actions = (await client.listActions()).map(a => a.id);
  out.integrations = await client.getIntegrationsList({ allowedHosts: ['github.com', 'nowhere.example'] });

  // scaffold → the worker runs it; getTask until done; both ways of streaming the log.
  const { taskId } = await client.scaffold({ templateRef: 'template:default/quick', values: { name: 'ledger' } });
  out.taskId = taskId;
  out.task = await until('the task to finish', async () => {
    const task = await client.getTask(taskId);
    return ['completed', 'failed'].includes(task.status) ? task : null;
  });
  out.stream = await stream(client, { taskId });
  out.streamAfter = await stream(client, { taskId, after: out.stream[2].id });
  out.polling = await stream(polling, { taskId });
  out.invalid = await failure(client.scaffold({ templateRef: 'template:default/quick', values: { name: 42 } }));
  out.missing = await failure(client.getTask('00000000-0000-0000-0000-000000000000'));

  // cancelTask while it waits; the stream ends with the cancelled run's completion; retry resumes it.
  const slow = (await client.scaffold({ templateRef: 'template:default/slow', values: {} })).taskId;
  await until('the slow task to run', async () => (await client.getTask(slow)).status === 'processing');
  out.cancel = await client.cancelTask(slow);
  out.cancelledStream = await stream(client, { taskId: slow });
  out.retry = await client.retry(slow);
  out.retriedTask = await until('the retried task to finish', async () => {
    const task = await client.getTask(slow);
    return ['completed', 'failed'].includes(task.status) ? task : null;
  });
  out.retriedStream = await stream(client, { taskId: slow });
  out.retryCompleted = await failure(client.retry(taskId));

  out.listOwned = await client.listTasks({ filterByOwnership: 'owned' });
  out.listPage = await client.listTasks({ filterByOwnership: 'all', limit: 1, offset: 1 });

  out.dryRun = await client.dryRun({
    template: {
      apiVersion: 'scaffolder.backstage.io/v1beta3', kind: 'Template', metadata: { name: 'dry' },
      spec: {
        type: 'service', owner: 'team-a',
        parameters: [{ properties: { name: { type: 'string' } } }],
        steps: [
          { id: 'fetch', action: 'fetch:template', input: { url: './skeleton', values: { name: '${{ parameters.name }}' } } },
          { id: 'publish', action: 'publish:git', input: { repoName: '${{ parameters.name }}' } },
        ],
        output: { links: [{ title: 'Repository', url: '${{ steps.publish.output.remoteUrl }}' }] },
      },
    },
    values: { name: 'dry' },
    secrets: { token: 'shh-secret' },
    directoryContents: [
      { path: 'template.yaml', base64Content: Buffer.from('kind: Template').toString('base64') },
      { path: 'skeleton/hello.txt', base64Content: Buffer.from('hi ${{ values.name }}').toString('base64') },
    ],
  });
}

main()
  .catch(e => {
    out.failed = `${e.name}: ${e.message}\n${e.stack}`;
  })
  .finally(() => {
    process.stdout.write(JSON.stringify(out));
    process.exit(0);
  });
