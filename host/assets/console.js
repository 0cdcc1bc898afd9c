// Ferry console: live updates without reloading. Plain JS, no build step.
// Elements marked data-live="…" with a data-api URL are refreshed by polling
// the admin API with the session cookie (GET needs no CSRF header). Pages
// work without this script; it only keeps them current.
"use strict";

const POLL_MS = 1000;

function text(value) {
  return value === null || value === undefined ? "" : String(value);
}

function utc(ms) {
  if (ms === null || ms === undefined) return "";
  return new Date(ms).toISOString().slice(0, 19).replace("T", " ");
}

function progressCell(job) {
  const frag = document.createDocumentFragment();
  if (job.progress_done !== null && job.progress_done !== undefined) {
    const total = job.progress_total;
    const done = job.progress_done;
    const bar = document.createElement("progress");
    bar.max = 100;
    const pct = total > 0 ? Math.floor((Math.min(Math.max(done, 0), total) * 100) / total) : 0;
    bar.value = pct;
    bar.textContent = pct + "%";
    bar.setAttribute("aria-label", "progress of job " + job.id);
    const label = document.createElement("span");
    label.className = "small";
    label.textContent = total > 0 ? done + " / " + total : done + " done";
    frag.append(bar, " ", label);
  }
  if (job.error) {
    const err = document.createElement("span");
    err.className = "err";
    err.textContent = job.error.split("\n")[0].slice(0, 140);
    frag.append(err);
  }
  return frag;
}

function jobRow(job) {
  const tr = document.createElement("tr");
  tr.dataset.id = job.id;
  const cell = (content) => {
    const td = document.createElement("td");
    if (content instanceof Node) td.append(content); else td.textContent = text(content);
    tr.append(td);
  };
  const link = document.createElement("a");
  link.href = "/jobs/" + job.id;
  link.textContent = job.id;
  cell(link);
  const state = document.createElement("span");
  state.className = "state " + job.state;
  state.textContent = job.state;
  cell(state);
  cell(job.instance);
  cell(job.name);
  cell(job.module || (job.pin ? job.pin.module : ""));
  cell(job.trigger);
  cell(job.channel);
  cell(utc(job.created_at));
  cell(job.attempts);
  cell(progressCell(job));
  return tr;
}

async function get(url) {
  const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
  if (!response.ok) throw new Error(url + ": " + response.status);
  return response.json();
}

const refreshers = {
  // A table of jobs: its rows are replaced by the API's answer.
  async jobs(el) {
    const jobs = await get(el.dataset.api);
    const body = el.tBodies[0];
    body.replaceChildren(...jobs.map(jobRow));
  },
  // Counts by state (the overview).
  async counts(el) {
    const health = await get(el.dataset.api);
    for (const n of el.querySelectorAll("[data-state]")) {
      n.textContent = health.jobs[n.dataset.state] || 0;
    }
  },
  // One job: its state, tries, progress and error.
  async job(el) {
    const detail = await get(el.dataset.api);
    const job = detail.job;
    for (const s of document.querySelectorAll('[data-live="state"]')) {
      s.className = "state " + job.state;
      s.textContent = job.state;
    }
    const attempts = el.querySelector('[data-live="attempts"]');
    if (attempts) attempts.textContent = job.attempts + " of " + (job.max_retries + 1);
    const progress = el.querySelector('[data-live="progress"]');
    if (progress) {
      const cell = progressCell({ ...job, error: null });
      if (cell.childNodes.length) progress.replaceChildren(cell);
    }
    const errorBox = document.querySelector('[data-live="error-box"]');
    const error = document.querySelector('[data-live="error"]');
    if (errorBox && error) {
      errorBox.hidden = !job.error;
      error.textContent = text(job.error);
    }
  },
};

function start() {
  const live = [...document.querySelectorAll("[data-live][data-api]")];
  if (!live.length) return;
  let busy = false;
  const tick = async () => {
    if (busy || document.hidden) return;
    busy = true;
    try {
      await Promise.all(live.map((el) => refreshers[el.dataset.live] && refreshers[el.dataset.live](el)));
      document.body.dataset.refreshed = String(Date.now());
    } catch (e) {
      console.warn("ferry console: live update failed:", e);
    } finally {
      busy = false;
    }
  };
  setInterval(tick, POLL_MS);
}

document.addEventListener("DOMContentLoaded", start);
