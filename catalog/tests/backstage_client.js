// Drives a running Callboard with Backstage's own @backstage/catalog-client, calling every public method of
// CatalogClient, and prints what each answered as one JSON object (catalog/tests/test_backstage_client.py
// asserts it). Configured by the environment: CLIENT_DIR (the npm install), BASE_URL, TOKEN, ROOT_TARGET,
// EXTRA_TARGET, MOVED_TARGET.
'use strict';

const path = require('path');
const { CatalogClient } = require(path.join(process.env.CLIENT_DIR, 'node_modules', '@backstage', 'catalog-client'));

const base = process.env.BASE_URL;
const options = { token: process.env.TOKEN };
const catalog = new CatalogClient({ discoveryApi: { getBaseUrl: async () => `${base}/api/catalog` } });
const out = {};
const names = items => items.map(e => (e ? e.metadata.name : null));

async function failure(promise) {
  try {
    await promise;
    return null;
  } catch (e) {
    return { name: e.name, status: e.response?.status, errorName: e.body?.error?.name, message: e.body?.error?.message };
  }
}

async function until(what, check, seconds = 90) {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise(resolve => setTimeout(resolve, 250));
  }
}

async function collect(iterable) {
  const pages = [];
  for await (const page of iterable) pages.push(page);
  return pages;
}

async function main() {
  const root = process.env.ROOT_TARGET;
  const extra = process.env.EXTRA_TARGET;

  // addLocation: new, then the worker ingests it.
  const added = await catalog.addLocation({ type: 'file', target: root }, options);
  out.added = { location: added.location, entities: added.entities };
  const ledger = await until('ledger-api', () => catalog.getEntityByRef('component:default/ledger-api', options));
  await until('the whole root location', async () =>
    (await catalog.getEntities({ filter: { kind: 'component' } }, options)).items.length === 4);

  out.dryRun = await catalog.addLocation({ type: 'file', target: extra, dryRun: true }, options);
  out.dryRunExisting = await catalog.addLocation({ type: 'file', target: root, dryRun: true }, options);
  out.conflict = await failure(catalog.addLocation({ type: 'file', target: root }, options));
  out.existing = await catalog.addLocation({ type: 'file', target: root, onConflict: 'refresh' }, options);

  // Entities.
  out.getEntities = names((await catalog.getEntities({
    filter: [{ kind: 'component', 'spec.type': 'service' }, { kind: 'api' }],
    order: [{ field: 'metadata.name', order: 'desc' }],
    fields: ['kind', 'metadata.name'],
  }, options)).items);
  out.getEntitiesPaged = names((await catalog.getEntities({
    filter: { kind: 'component' }, order: { field: 'metadata.name', order: 'asc' }, limit: 2, offset: 1,
  }, options)).items);
  out.byRefs = names((await catalog.getEntitiesByRefs({
    entityRefs: ['component:default/web-player', 'component:default/missing', 'group:default/team-a'],
    fields: ['metadata.name'],
  }, options)).items);
  out.byRefsPredicate = names((await catalog.getEntitiesByRefs({
    entityRefs: ['component:default/web-player', 'component:default/ledger-api'],
    query: { 'metadata.tags': { $contains: 'java' } },
  }, options)).items);

  const first = await catalog.queryEntities({
    filter: { kind: 'component' }, limit: 3, orderFields: { field: 'metadata.name', order: 'asc' },
  }, options);
  const second = await catalog.queryEntities({ cursor: first.pageInfo.nextCursor }, options);
  const back = await catalog.queryEntities({ cursor: second.pageInfo.prevCursor }, options);
  out.queryFilter = {
    first: names(first.items), totalItems: first.totalItems, second: names(second.items),
    back: names(back.items), secondNext: second.pageInfo.nextCursor ?? null,
  };
  out.queryFullText = names((await catalog.queryEntities({
    fullTextFilter: { term: 'LEDGER', fields: ['metadata.name', 'metadata.title'] },
    orderFields: [{ field: 'metadata.name', order: 'asc' }],
  }, options)).items);
  const predicate = { $any: [{ kind: 'api' }, { $all: [{ kind: 'component' }, { $not: { 'spec.lifecycle': 'experimental' } }] }] };
  const p1 = await catalog.queryEntities({
    query: predicate, limit: 2, orderFields: { field: 'metadata.name', order: 'asc' },
  }, options);
  const p2 = await catalog.queryEntities({ cursor: p1.pageInfo.nextCursor }, options);
  out.queryPredicate = { first: names(p1.items), second: names(p2.items), totalItems: p1.totalItems };
  out.queryPredicateAndFilter = names((await catalog.queryEntities({
    query: { 'spec.port': 8080 }, filter: { kind: 'component' },
  }, options)).items);
  out.stream = (await collect(catalog.streamEntities({ pageSize: 2, filter: { kind: ['component', 'api'] } }, options)))
    .map(names);
  out.streamPredicate = (await collect(catalog.streamEntities({ pageSize: 4, query: { kind: { $in: ['user', 'group', 'component'] } } }, options)))
    .map(names);

  out.getEntityByRef = ledger.metadata.name;
  out.getEntityByRefMissing = (await catalog.getEntityByRef('component:default/nope', options)) ?? null;
  const ancestors = await catalog.getEntityAncestors({ entityRef: 'component:default/ledger-api' }, options);
  out.ancestors = {
    root: ancestors.rootEntityRef,
    items: ancestors.items.map(i => [i.entity.metadata.name, i.parentEntityRefs]),
  };
  out.facets = await catalog.getEntityFacets({ facets: ['kind', 'spec.lifecycle'], filter: { kind: 'component' } }, options);
  out.facetsPredicate = await catalog.getEntityFacets({
    facets: ['kind', 'metadata.tags'], query: { $not: { kind: { $in: ['user', 'group', 'location'] } } },
  }, options);

  // Locations.
  out.getLocations = (await catalog.getLocations({}, options)).items;
  out.queryLocations = await catalog.queryLocations({ limit: 1, query: { type: 'file' } }, options);
  out.queryLocationsCursor = out.queryLocations.pageInfo.nextCursor
    ? (await catalog.queryLocations({ cursor: out.queryLocations.pageInfo.nextCursor }, options)).items : null;
  const more = await catalog.addLocation({ type: 'file', target: extra }, options);
  out.streamLocations = (await collect(catalog.streamLocations({ limit: 1 }, options))).map(p => p.map(l => l.target));
  out.getLocationById = await catalog.getLocationById(added.location.id, options);
  out.getLocationByIdMissing = (await catalog.getLocationById('00000000-0000-4000-8000-000000000000', options)) ?? null;
  out.getLocationByRef = await catalog.getLocationByRef(`file:${root}`, options);
  out.getLocationByEntity = await catalog.getLocationByEntity('component:default/ledger-api', options);
  const moved = process.env.MOVED_TARGET;
  out.updateLocation = await catalog.updateLocation(more.location.id, { type: 'file', target: moved }, options);
  // The worker re-reads the location from its new target; only then is it removed (a removal while the
  // location's refresh runs races with that refresh, which writes the location back: a refresh.py matter).
  // Polled through by-refs: the test settings give each process its own memory cache, so this server does
  // not see the worker's catalog version and keeps its by-name answers (a shared cache in production).
  const movedEntity = await until('extra-thing from the new target', async () => {
    const [e] = (await catalog.getEntitiesByRefs({ entityRefs: ['component:default/extra-thing'] }, options)).items;
    return e && e.metadata.annotations['backstage.io/managed-by-location'] === `file:${moved}` ? e : null;
  });
  out.movedEntity = movedEntity.metadata.name;
  await catalog.removeLocationById(more.location.id, options);
  out.removedEntity = (await catalog.getEntityByRef('component:default/extra-thing', options)) ?? null;
  out.removedLocation = (await catalog.getLocationById(more.location.id, options)) ?? null;

  // Writes on entities.
  await catalog.refreshEntity('component:default/ledger-api', options);
  out.refreshed = true;
  const player = await catalog.getEntityByRef('component:default/web-player', options);
  await catalog.removeEntityByUid(player.metadata.uid, options);
  // As in Backstage: its location still emits it, so the refresh the removal scheduled brings it back.
  const again = await until('web-player back', async () => {
    const e = await catalog.getEntityByRef('component:default/web-player', options);
    return e && e.metadata.uid !== player.metadata.uid ? e : null;
  });
  out.removedAndBack = again.metadata.name;

  const good = { apiVersion: 'backstage.io/v1alpha1', kind: 'Group', metadata: { name: 'g' }, spec: { type: 'team', children: [] } };
  out.validateGood = await catalog.validateEntity(good, 'url:https://example.com/catalog-info.yaml', options);
  const bad = await catalog.validateEntity({ ...good, metadata: { name: 'not valid!' } }, 'url:https://example.com/x.yaml', options);
  out.validateBad = { valid: bad.valid, messages: bad.errors.map(e => e.message) };
  const analysis = await catalog.analyzeLocation({ location: { type: 'file', target: extra } }, options);
  out.analyze = {
    existing: analysis.existingEntityFiles.map(f => [f.entity.metadata.name, f.isRegistered]),
    generate: analysis.generateEntities,
  };
  out.unauthenticated = await failure(catalog.getEntities({}, { token: 'cb_not-a-token' }));
}

main().then(
  () => process.stdout.write(JSON.stringify(out)),
  e => {
    process.stdout.write(JSON.stringify({ ...out, failed: String(e && e.stack || e) }));
    process.exitCode = 1;
  },
);
