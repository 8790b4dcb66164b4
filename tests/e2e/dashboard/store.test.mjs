// The dashboard's task store (web/dashboard/store.js) without a browser: events applied once
// per task, listings that never move a task back, counts moved by events, trees by session.
//   node --test store.test.mjs   (ctest: dashboard.store)
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TaskStore, buildForest } from '../../../web/dashboard/store.js';

const task = (id, state, extra = {}) => ({
  id, state, session_id: `ses_${id}`, parent_session_id: '', root_session_id: `ses_${id}`,
  description: id, created_at_ms: 1, queued_at_ms: 1, started_at_ms: 0, finished_at_ms: 0,
  queue_position: 0, pool: 'model:mock/scripted', depth: 0, ...extra });
const ev = (id, taskId, state, from, at = 100) => ({ id, task_id: taskId, session_id: `ses_${taskId}`, state, from, at_ms: at });

test('an event creates the row of an unknown task once, then moves it', () => {
  const s = new TaskStore();
  s.applyState(ev(1, 'a', 'pending', ''));
  s.applyState(ev(2, 'a', 'running', 'pending', 150));
  s.applyState(ev(3, 'a', 'completed', 'running', 400));
  assert.equal(s.tasks.size, 1);
  const a = s.get('a');
  assert.equal(a.state, 'completed');
  assert.equal(a.duration_ms, 250);
  assert.equal(a.stale, true, 'a finished task is marked for a re-read of its details');
});

test('a listing older than the events does not move a task back', () => {
  const s = new TaskStore();
  s.mergeSnapshot([task('a', 'pending')], 5);
  s.applyState(ev(7, 'a', 'running', 'pending'));
  s.mergeSnapshot([task('a', 'pending')], 6);  // read before event 7
  assert.equal(s.get('a').state, 'running');
  s.mergeSnapshot([task('a', 'completed')], 9);  // read after it
  assert.equal(s.get('a').state, 'completed');
  // a read without an event id: never backwards, but an interrupted task resumes
  s.mergeSnapshot([task('a', 'running')], null);
  assert.equal(s.get('a').state, 'completed');
  s.mergeSnapshot([task('b', 'interrupted')], null);
  s.mergeSnapshot([task('b', 'pending')], null);
  assert.equal(s.get('b').state, 'pending');
});

test('counts from the daemon move with events; without them they are the loaded tasks', () => {
  const s = new TaskStore();
  s.mergeSnapshot([task('a', 'running')], 3, { pending: 0, running: 1, completed: 9000 });
  s.applyState(ev(4, 'a', 'completed', 'running'));
  s.applyState(ev(5, 'n', 'pending', ''));
  assert.deepEqual([s.counts().running, s.counts().completed, s.counts().pending], [0, 9001, 1]);
  const t = new TaskStore();
  t.mergeSnapshot([task('a', 'running'), task('b', 'error')], 3);
  assert.deepEqual([t.counts().running, t.counts().error, t.counts().completed], [1, 1, 0]);
});

test('a task leaving the queue moves those behind it up', () => {
  const s = new TaskStore();
  s.mergeSnapshot([task('a', 'pending', { queue_position: 1 }), task('b', 'pending', { queue_position: 2 }),
                   task('c', 'pending', { queue_position: 3, pool: 'other' })], 1);
  s.applyState(ev(2, 'a', 'running', 'pending'));
  assert.equal(s.get('a').queue_position, 0);
  assert.equal(s.get('b').queue_position, 1);
  assert.equal(s.get('c').queue_position, 3, 'another pool is not touched');
});

test('progress sets running totals of a known task and ignores an unknown one', () => {
  const s = new TaskStore();
  s.mergeSnapshot([task('a', 'running')], 1);
  s.applyProgress({ task_id: 'a', turns: 2, tool_calls: 3, input_tokens: 800, output_tokens: 90, tool: 'grep', at_ms: 5 });
  s.applyProgress({ task_id: 'zzz', turns: 1 });
  assert.deepEqual([s.get('a').turns, s.get('a').last_tool, s.get('a').input_tokens], [2, 'grep', 800]);
  assert.equal(s.tasks.size, 1);
});

test('trees: children under the parent session task that was running when they were made', () => {
  const lead1 = task('l1', 'completed', { session_id: 'S', root_session_id: 'S', created_at_ms: 10 });
  const lead2 = task('l2', 'running', { session_id: 'S', root_session_id: 'S', created_at_ms: 50 });
  const c1 = task('c1', 'completed', { session_id: 'C1', parent_session_id: 'S', root_session_id: 'S', created_at_ms: 20, depth: 1 });
  const c2 = task('c2', 'running', { session_id: 'C2', parent_session_id: 'S', root_session_id: 'S', created_at_ms: 60, depth: 1 });
  const g = task('g', 'pending', { session_id: 'G', parent_session_id: 'C2', root_session_id: 'S', created_at_ms: 70, depth: 2 });
  const forest = buildForest([g, c2, lead2, c1, lead1]);
  assert.deepEqual(forest.map((n) => n.task.id), ['l1', 'l2']);
  assert.deepEqual(forest[0].children.map((n) => n.task.id), ['c1']);
  assert.deepEqual(forest[1].children.map((n) => n.task.id), ['c2']);
  assert.deepEqual(forest[1].children[0].children.map((n) => n.task.id), ['g']);
});
