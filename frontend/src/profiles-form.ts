/**
 * Entry point for the profiles spawner form (templates/profiles/form.html).
 *
 * The server renders a complete, working HTML form inside JupyterHub's spawn.html
 * `<form>`; this script only enhances it, vanilla DOM, no framework:
 *   - a click or change anywhere in a profile card selects that card's radio;
 *   - each option select shows the chosen choice's description;
 *   - an option's unlisted ("Other...") entry shows only while chosen, with live
 *     validation by the server's rule (a full match of the pattern);
 *   - "Copy link" buttons reproduce the selection (fragment: pre-select; "start link": a
 *     query that JupyterHub starts from, or, with a build, a fragment asking to build and
 *     start);
 *   - a selection in `location.hash` (from such a link) is applied on load. Links only fill
 *     in: nothing is built or started until the user presses Build ("Build and start") or
 *     Start, which gets the focus, with what will run said beside it (issue #13);
 *   - options that take built images get a "Build from a repository" entry whose panel
 *     (./builds/panel, loaded on first use) builds, follows the log, and hands the signed
 *     image to Start; a running build is re-attached after a reload. Its token is asked for
 *     when first needed (./lib/token).
 * If the page data is missing or broken the plain form is left as it is.
 */
import type { BuildPanel } from "./builds/panel";

type PanelModule = typeof import("./builds/panel");
/** How the build panel's code is loaded: `build-panel.js`, built as its own entry beside this
 * file and imported by URL on first use (tests point this at the source module). */
export const panelModule = {
  load: (): Promise<PanelModule> =>
    import(
      /* @vite-ignore */ new URL(/* @vite-ignore */ "./build-panel.js", import.meta.url).href
    ) as Promise<PanelModule>,
};
import { readPageData, UNLISTED, type BuildsData, type OptionData, type ProfileData } from "./profiles/data";
import { hourlyRate, merge, money, type Pricing } from "./profiles/price";
import { fragmentFields, selectionLink, type Fields } from "./profiles/link";
import { fullMatch, problem, type Rule } from "./profiles/validate";
import { hubPage } from "./lib/hubpage";
import type { TokenSource } from "./builds/client";

export const ROOT_ID = "hub-extensions-profiles";

/** One option's controls in one profile card. */
interface Field {
  option: OptionData;
  select: HTMLSelectElement;
  description: HTMLElement | null;
  /** The option's unlisted entry: its `.hx-unlisted` block and text input. */
  box: HTMLElement | null;
  input: HTMLInputElement | null;
  rule: Rule | null;
  error: HTMLElement | null;
  /** The "Build from a repository" entry and its panel, on options that take built images. */
  build: BuildSlot | null;
  /** What `description` shows now: a choice's key, BUILT, or null (unknown). */
  shown: string | null;
}

const BUILT = "\u0000build";

interface BuildSlot {
  entry: HTMLOptionElement;
  panel: BuildPanel | null;
  loading: Promise<BuildPanel> | null;
}

/** Fields of a build in links and in sessionStorage (no secrets: what to build, not results). */
const BUILD_KEYS = ["provider", "repo", "ref"] as const;
const START = "hx-start";
const STORE = "hub-extensions:build:";

interface Card {
  slug: string;
  profile: ProfileData;
  el: HTMLElement;
  radio: HTMLInputElement;
  fields: Field[];
}

const COPY_HTML =
  '<div class="btn-group btn-group-sm" role="group" aria-label="Share this choice">' +
  '<button type="button" class="btn btn-outline-contrast" data-start="">Copy link</button>' +
  '<button type="button" class="btn btn-outline-contrast" data-start="1">Copy start link</button>' +
  "</div>" +
  '<span class="small text-body-secondary" aria-live="polite"></span>' +
  '<input type="text" class="form-control form-control-sm" readonly aria-label="Link to this choice" hidden>';

/** Is the option's "Build from a repository" entry the chosen one? */
const building = (f: Field): boolean => !!f.build && f.select.selectedIndex === f.build.entry.index;

/** The card whose fields the server will read: the one with the checked radio. */
const isActive = (card: Card, f: Field): boolean =>
  card.radio.checked && f.select.value === UNLISTED && !!f.input && !building(f);

function buildCards(root: HTMLElement, profiles: ProfileData[]): Card[] {
  const cards: Card[] = [];
  for (const el of root.querySelectorAll<HTMLElement>(".hx-profile")) {
    const profile = profiles.find((p) => p.slug === el.dataset.profile);
    const radio = el.querySelector<HTMLInputElement>('input[type="radio"]');
    if (!profile || !radio) continue;
    const fields: Field[] = [];
    for (const row of el.querySelectorAll<HTMLElement>(".hx-option")) {
      const option = profile.options.find((o) => o.key === row.dataset.option);
      const select = row.querySelector("select");
      if (!option || !select) continue;
      const box = row.querySelector<HTMLElement>(".hx-unlisted");
      const input = box?.querySelector("input") ?? null;
      const pattern = input?.dataset.pattern ?? option.unlisted?.pattern ?? null;
      fields.push({
        option,
        select,
        description: root.ownerDocument.getElementById(select.id + "-description"),
        box,
        input,
        rule: input && {
          name: option.display_name,
          pattern,
          re: fullMatch(pattern),
          message: option.unlisted?.message ?? null,
        },
        error: null,
        build: option.dynamic_builds ? buildSlot(select) : null,
        // the server rendered the description of the choice it marked selected
        shown: select.querySelector("option[selected]")?.getAttribute("value") ?? null,
      });
    }
    cards.push({ slug: profile.slug, profile, el, radio, fields });
  }
  return cards;
}

function buildSlot(select: HTMLSelectElement): BuildSlot {
  // The same value as "Other..." (the image goes in the unlisted field), told apart by identity.
  const entry = select.ownerDocument.createElement("option");
  entry.value = UNLISTED;
  entry.textContent = "Build from a repository...";
  entry.dataset.hxBuild = "";
  select.append(entry);
  return { entry, panel: null, loading: null };
}

/** Show or clear `message` on an unlisted input, Bootstrap-style and for screen readers. */
function mark(f: Field, message: string): void {
  const input = f.input;
  if (!input) return;
  if (message && !f.error) {
    const error = input.ownerDocument.createElement("div");
    error.className = "invalid-feedback";
    error.id = input.id + "-error";
    input.after(error);
    input.setAttribute("aria-describedby", `${input.getAttribute("aria-describedby") ?? ""} ${error.id}`.trim());
    f.error = error;
  }
  input.classList.toggle("is-invalid", !!message);
  if (message) input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
  if (f.error) {
    f.error.textContent = message;
    f.error.hidden = !message;
  }
}

/**
 * Bring one option's unlisted entry up to date: shown only while chosen; required and
 * checked only while its profile is selected. `reveal` also shows "a value is required".
 */
function check(card: Card, f: Field, reveal: boolean): string {
  const build = building(f);
  if (f.box) f.box.hidden = f.select.value !== UNLISTED || build;
  // Disabled inputs are not submitted: a hidden "Other..." value (e.g. pre-filled from the last
  // start) never travels beside a listed choice. While building, the panel's inputs carry it.
  if (f.input) f.input.disabled = build || f.select.value !== UNLISTED;
  f.build?.panel?.setActive(build);
  const input = f.input;
  if (!input || !f.rule) return "";
  const active = isActive(card, f);
  const message = active ? problem(f.rule, input.value) : "";
  input.required = active;
  input.setCustomValidity(message);
  mark(f, message && (reveal || input.value) ? message : "");
  return message;
}

function describe(f: Field): void {
  const shown = building(f) ? BUILT : f.select.value;
  if (!f.description || f.shown === shown) return; // already there: no DOM work on load
  f.shown = shown;
  if (shown === BUILT) {
    f.description.textContent = "An environment built from a git repository with repo2docker.";
    return;
  }
  const choice = f.option.choices.find((c) => c.key === f.select.value);
  // Server-sanitised HTML from the page data, never text read back from the DOM.
  f.description.innerHTML = choice?.description_html ?? "";
}

const hasValue = (select: HTMLSelectElement, value: string): boolean =>
  [...select.options].some((o) => o.value === value);

/** Apply a selection carried in a link's fragment; anything unknown is ignored. Returns the
 * build requests it carries (the option's field and what to build). */
function applyFragment(cards: Card[], params: URLSearchParams): Array<[Field, Record<string, string>]> {
  const card = cards.find((c) => c.slug === params.get("profile"));
  if (!card) return [];
  card.radio.checked = true;
  const builds: Array<[Field, Record<string, string>]> = [];
  for (const f of card.fields) {
    const repo = params.get(`${f.select.name}--build-repo`);
    if (f.build && repo) {
      f.build.entry.selected = true;
      const request: Record<string, string> = {};
      for (const key of BUILD_KEYS) request[key] = params.get(`${f.select.name}--build-${key}`) ?? "";
      builds.push([f, request]);
      continue;
    }
    const choice = params.get(f.select.name);
    const typed = f.input && params.get(f.input.name);
    if (choice !== null && hasValue(f.select, choice)) f.select.value = choice;
    if (f.input && typed != null && (choice ?? UNLISTED) === UNLISTED && hasValue(f.select, UNLISTED)) {
      f.select.value = UNLISTED;
      f.input.value = typed;
    }
  }
  return builds;
}

/** The selected profile's form fields, as the server reads them. */
function selectionFields(card: Card): Fields {
  const fields: Fields = [["profile", card.slug]];
  for (const f of card.fields) {
    if (building(f)) {
      const request = f.build?.panel?.request();
      if (request) for (const key of BUILD_KEYS) fields.push([`${f.select.name}--build-${key}`, request[key]]);
    } else if (f.input && f.select.value === UNLISTED) fields.push([f.input.name, f.input.value]);
    else fields.push([f.select.name, f.select.value]);
  }
  return fields;
}

/**
 * Enhance the profiles form in `doc`. Returns false (leaving the plain form alone) when
 * there is no form or its page data is unusable, true once enhanced.
 */
export function init(doc: Document = document): boolean {
  const root = doc.getElementById(ROOT_ID);
  if (!root || root.dataset.hxReady !== undefined) return false;
  let cards: Card[];
  let builds: BuildsData | null;
  let pricing: Pricing | null;
  let linkShown: boolean;
  try {
    const data = readPageData(doc);
    cards = buildCards(root, data.profiles);
    builds = data.builds;
    pricing = data.pricing;
    linkShown = data.link;
  } catch (err) {
    console.warn("hub-extensions: the profiles form works without enhancements:", err);
    return false;
  }
  root.dataset.hxReady = "";
  const form = root.closest("form");
  const win = doc.defaultView ?? window;
  const storage = (): Storage | null => {
    try {
      return win.sessionStorage;
    } catch {
      return null; // storage blocked: no re-attach after a reload, nothing else changes
    }
  };
  // The page carries no token: the panel asks the hub for one, for this page's user, when it
  // first needs it, and reuses it (./lib/token).
  const hub = hubPage(win);
  let tokenSource: TokenSource | null = null; // one per page: panels share it (and its minting)
  const tokenOf = (mod: PanelModule): TokenSource | null =>
    hub && builds?.token ? (tokenSource ??= new mod.FormToken(hub, builds.token, storage)) : null;

  /** The option's build panel, loading its code on first use. */
  const panelOf = (card: Card, f: Field): Promise<BuildPanel> => {
    const slot = f.build!;
    slot.loading ??= panelModule.load().then((mod) => {
      const panel = mod.makePanel(
        doc,
        f.select.name,
        {
          servicePrefix: root.dataset.servicePrefix ?? "",
          token: tokenOf(mod),
          providers: builds?.providers ?? [],
          error: builds?.error ?? null,
        },
        {
          onStarted: (id, request) =>
            storage()?.setItem(STORE + f.select.name, JSON.stringify({ id, profile: card.slug, ...request })),
          onReady: () => startWhenReady(),
        },
      );
      (f.box ?? f.select).after(panel.el);
      slot.panel = panel;
      check(card, f, false);
      return panel;
    });

    return slot.loading;
  };

  const total = root.querySelector<HTMLElement>(".hx-price-total-value");
  /** The selected profile's hourly rate with the choices made now (unlisted values and built
   * images change the image, not the resources: they cost what the profile costs). */
  const price = (): void => {
    const card = current;
    if (!pricing || !total || !card?.profile.price) return;
    const parts = card.fields.map(
      (f) => f.option.choices.find((c) => c.key === f.select.value && !building(f))?.price?.footprint,
    );
    const rate = hourlyRate(pricing, merge(card.profile.price.footprint, ...parts), card.slug);
    const text = `${money(rate, pricing.currency)} per hour`;
    if (total.textContent !== text) total.textContent = text;
  };
  let current: Card | undefined;
  const refresh = (reveal = false): void => {
    current = cards.find((c) => c.radio.checked);
    for (const card of cards) {
      card.el.classList.toggle("border-primary", card.radio.checked);
      for (const f of card.fields) check(card, f, reveal);
    }
    price();
  };
  const locate = (target: EventTarget | null) => {
    const card = cards.find((c) => target instanceof Node && c.el.contains(target));
    return { card, field: card?.fields.find((f) => f.select === target || f.input === target) };
  };
  /** A click, change or typing inside a card selects it. Focus alone does not: Tab
   * passes through every card's fields and must not change the selection on the way. */
  const pick = (e: Event): void => {
    const { card, field } = locate(e.target);
    if (!card) return;
    card.radio.checked = true;
    if (card !== current) refresh();
    if (field && e.type === "change" && e.target === field.select) {
      describe(field);
      price();
    }
    if (field && e.type !== "click") check(card, field, false);
    if (field && building(field) && !field.build?.panel) void panelOf(card, field);
  };
  for (const type of ["click", "change", "input"]) root.addEventListener(type, pick);
  root.addEventListener("focusout", (e) => {
    const { card, field } = locate(e.target);
    if (card && field?.input === e.target) check(card, field, true);
  });

  /** What in the selected profile the server would refuse (or that is not built yet). */
  const firstInvalid = (forLink = false): { message: string; focus: () => void } | undefined => {
    refresh(true);
    const card = current;
    for (const f of card?.fields ?? []) {
      if (building(f)) {
        const panel = f.build?.panel;
        const message = !panel ? "The build panel is still loading." : forLink ? panel.linkProblem() : panel.problem();
        if (message) return { message, focus: () => panel?.tell(message) };
      } else if (card && f.input && isActive(card, f) && !f.input.validity.valid) {
        const input = f.input;
        return { message: f.error?.textContent ?? "", focus: () => input.focus() };
      }
    }
    return undefined;
  };
  if (form) {
    // Native validation runs first (our custom validity blocks the submission and fires
    // "invalid"): show our message beside the field as well as in the browser's bubble.
    let focused = false;
    form.addEventListener(
      "invalid",
      (e) => {
        const { card, field } = locate(e.target);
        if (!card || !field?.input) return;
        check(card, field, true);
        if (!focused) {
          focused = true;
          field.input.focus();
          queueMicrotask(() => (focused = false));
        }
      },
      true,
    );
    // With native validation off (novalidate), check here, before anyone else's handler
    // (capture runs first), so that e.g. spawn.html's "starting" spinner is not shown.
    form.addEventListener(
      "submit",
      (e) => {
        const bad = firstInvalid();
        if (!bad) return;
        e.preventDefault();
        e.stopImmediatePropagation();
        bad.focus();
      },
      true,
    );
    form.addEventListener("submit", (e) => {
      if (e.defaultPrevented) return;
      // Forget a stored build once the user starts with something else for that option.
      for (const card of cards) {
        for (const f of card.fields)
          if (f.build && !(card.radio.checked && building(f))) storage()?.removeItem(STORE + f.select.name);
      }
    });
  }

  const spawnUrl = root.dataset.spawnUrl;
  if (spawnUrl) {
    const bar = doc.createElement("div");
    bar.className = "d-flex flex-wrap align-items-center gap-2 mb-3 hx-copy-link";
    bar.innerHTML = COPY_HTML;
    const status = bar.querySelector("span") as HTMLElement;
    const shown = bar.querySelector("input") as HTMLInputElement;
    // Enter in the link box would submit the spawn form (and start a server).
    shown.addEventListener("keydown", (e) => e.key === "Enter" && e.preventDefault());
    const say = (text: string): void => {
      status.textContent = text;
    };
    const offer = (link: string): void => {
      shown.value = link;
      shown.hidden = false;
      shown.focus();
      shown.select();
      say("Copy this link");
    };
    bar.addEventListener("click", (e) => {
      const button = (e.target as Element).closest?.("button");
      if (!button) return;
      const bad = firstInvalid(true); // also brings `current` up to date
      const card = current;
      if (!card) return say("Choose an environment first");
      if (bad) {
        bad.focus();
        return say(bad.message);
      }
      const fields = selectionFields(card);
      const start = !!button.dataset.start;
      // /hub/spawn?... starts without this page, so it cannot build first: a link with a build
      // is a fragment link, and its "start" variant offers "Build and start" to whoever opens it.
      const withBuild = fields.some(([name]) => name.endsWith("--build-repo"));
      const typed = fields.some(([name]) => name.endsWith("--unlisted-choice"));
      const link = withBuild
        ? selectionLink(spawnUrl, win.location.href, start ? [...fields, [START, "1"]] : fields, false)
        : selectionLink(spawnUrl, win.location.href, fields, start);
      // what the person who opens it will see (the hub shows a typed value for a click on Start)
      const copied = !start
        ? "Link copied: it fills in this form."
        : withBuild
          ? "Link copied: it fills in this form; one press of Build and start builds and starts."
          : typed
            ? "Link copied: it fills in this form; one press of Start starts."
            : "Link copied: it starts this environment.";
      const clipboard = win.navigator.clipboard;
      if (!clipboard?.writeText) return offer(link);
      clipboard.writeText(link).then(
        () => {
          shown.hidden = true;
          say(copied);
        },
        () => offer(link),
      );
    });
    const fieldset = root.querySelector("fieldset");
    if (fieldset) fieldset.after(bar);
    else root.append(bar);
  }

  // A fragment link opened on this page (a new hash does not reload it) applies too.
  const cardOf = (f: Field): Card => cards.find((c) => c.fields.includes(f))!;
  /** Once parsed: the script runs as soon as it arrives (async), which may be before the
   * rest of the page (the Start button, spawn.html's own submit handler) is parsed. */
  const whenParsed = (then: () => void): void => {
    if (doc.readyState === "loading") doc.addEventListener("DOMContentLoaded", then, { once: true });
    else then();
  };
  /** After the user's "Build and start": start once the selection's builds are all ready. */
  const startWhenReady = (): void => whenParsed(() => !firstInvalid() && form?.requestSubmit());
  /** A link filled in the form: Start is the next thing, for the user to press (or not). */
  const focusStart = (): void =>
    whenParsed(() => {
      const button = form?.querySelector<HTMLButtonElement>('button[type="submit"]');
      if (!button) return;
      button.classList.add("hx-link-start");
      button.focus();
    });
  /** After a reload: show the build this tab started last and, if it runs or is ready, follow it. */
  const reattach = async (): Promise<void> => {
    for (const card of cards) {
      for (const f of card.fields) {
        const raw = f.build && storage()?.getItem(STORE + f.select.name);
        if (!raw) continue;
        let saved: Record<string, string>;
        try {
          saved = JSON.parse(raw) as Record<string, string>;
        } catch {
          continue;
        }
        if (saved.profile !== card.slug || typeof saved.id !== "string") continue;
        card.radio.checked = true;
        f.build!.entry.selected = true;
        describe(f);
        refresh();
        const panel = await panelOf(card, f);
        panel.fill(saved);
        const mod = await panelModule.load();
        const servicePage = { servicePrefix: root.dataset.servicePrefix ?? "", token: tokenOf(mod) };
        const status = await mod.statusOf(servicePage, saved.id);
        if (status === "waiting" || status === "building" || status === "ready") void panel.build();
      }
    }
  };
  let replaced: string | null = null; // the fragment this script wrote itself (not a new link)
  const load = (): void => {
    if (replaced !== null && win.location.hash === replaced) return;
    const params = fragmentFields(win.location.hash);
    const requested = applyFragment(cards, params);
    for (const card of cards) for (const f of card.fields) describe(f);
    refresh();
    const start = params.get(START) === "1";
    if (start) {
      // once: a reload (or coming back) offers the plain filled-in form
      params.delete(START);
      replaced = "#" + params.toString();
      win.history.replaceState(null, "", replaced);
    }
    // A link never builds or starts by itself: it fills in, and the user presses the button.
    for (const [f, request] of requested) void panelOf(cardOf(f), f).then((panel) => panel.offer(request, start));
    if (start && !requested.length) focusStart();
    if (!requested.length) void reattach();
  };
  if (linkShown) focusStart(); // the hub shows a query link's choices above the form
  win.addEventListener("hashchange", load);
  load();
  return true;
}

/**
 * Enhance the form once the browser has drawn it. The radios and selects work without this
 * script (a click on a radio chooses it at once), so it does not hold up the first frame
 * after they are parsed: from the HTTP cache it would otherwise run right then (issue #14).
 * What the first frame shows does not move when it runs: the page's CSS already hides an
 * unlisted value's box unless its entry is chosen.
 */
export function start(doc: Document = document): void {
  if (!doc.getElementById(ROOT_ID)) return;
  const win = doc.defaultView;
  // a hidden tab draws no frames: enhance at once
  if (!win || doc.visibilityState === "hidden" || typeof win.requestAnimationFrame !== "function") {
    init(doc);
    return;
  }
  win.requestAnimationFrame(() => win.setTimeout(() => init(doc), 0));
}

start();
