import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import * as panelSource from "./builds/panel";
import { init, panelModule, ROOT_ID, start } from "./profiles-form";

/* ---------- fixture: the HTML that templates/profiles/form.html renders ---------- */

interface Choice {
  key: string;
  display_name: string;
  description_html: string | null;
  default: boolean;
  resources: null;
}
interface Option {
  key: string;
  display_name: string;
  field: string;
  choices: Choice[];
  unlisted: {
    enabled: boolean;
    display_name: string;
    display_name_in_choices: string;
    pattern: string | null;
    message: string | null;
    field: string;
  } | null;
  dynamic_builds?: boolean;
}
interface Profile {
  slug: string;
  display_name: string;
  description_html: string | null;
  default: boolean;
  resources: Record<string, unknown> | null;
  options: Option[];
}
type Chosen = { choice: string | null; unlisted: string | null };
interface Data {
  builds?: {
    providers: Array<{ id: string; displayName: string }>;
    error?: string;
    token?: { scopes: string[]; expires_in: number; note: string };
  };
  link?: object;
  profiles: Profile[];
  selected: { profile: string | null; options: Record<string, Record<string, Chosen>> };
}

const choice = (key: string, display_name: string, description_html: string | null = null): Choice => ({
  key,
  display_name,
  description_html,
  default: false,
  resources: null,
});

function pageData({ message = null as string | null } = {}): Data {
  return {
    profiles: [
      {
        slug: "small",
        display_name: "Small",
        description_html: "A <em>small</em> server",
        default: true,
        resources: { cpu: 1, memory: "1 GiB", memory_bytes: 2 ** 30, gpu: null, gpu_type: null },
        options: [
          {
            key: "image",
            display_name: "Image",
            field: "profile-option-small--image",
            choices: [choice("base", "Base")],
            unlisted: {
              enabled: false,
              display_name: "Other",
              display_name_in_choices: "Other",
              pattern: null,
              message: null,
              field: "profile-option-small--image--unlisted-choice",
            },
          },
        ],
      },
      {
        slug: "medium",
        display_name: "Medium",
        description_html: null,
        default: false,
        resources: null,
        options: [
          {
            key: "image",
            display_name: "Image",
            field: "profile-option-medium--image",
            choices: [choice("base", "Base", "d <em>e</em>"), choice("gpu", "GPU <b>x</b>")],
            unlisted: {
              enabled: true,
              display_name: "Custom",
              display_name_in_choices: "Other...",
              pattern: "a+:b",
              message,
              field: "profile-option-medium--image--unlisted-choice",
            },
          },
          {
            key: "size",
            display_name: "Size",
            field: "profile-option-medium--size",
            choices: [choice("s", "S", "<strong>small</strong> disk"), choice("l", "L")],
            unlisted: null,
          },
        ],
      },
    ],
    selected: {
      profile: "small",
      options: {
        small: { image: { choice: "base", unlisted: null } },
        medium: { image: { choice: "base", unlisted: null }, size: { choice: "s", unlisted: null } },
      },
    },
  };
}

const esc = (s: string): string =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&#34;").replace(/'/g, "&#39;");

/** Jinja's `tojson` filter. */
const tojson = (v: unknown): string =>
  JSON.stringify(v).replace(/[<>&']/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);

/**
 * form.html's output (checked against the Python renderer, hub_extensions.profiles.form), inside
 * spawn.html's <form>; the resources text is simplified and the module <script> is left out.
 */
function renderPage(
  data: Data,
  { json = tojson(data) as string | null, spawnUrl = "/prefix/hub/spawn", total = null as string | null } = {},
): string {
  const cards = data.profiles.map((p) => {
    const selected = data.selected.profile === p.slug;
    const options = p.options.map((o) => {
      const field = `profile-option-${p.slug}--${o.key}`;
      const chosen = data.selected.options[p.slug]?.[o.key] ?? { choice: null, unlisted: null };
      const u = o.unlisted?.enabled ? o.unlisted : null;
      const desc = o.choices.find((c) => c.key === chosen.choice)?.description_html ?? "";
      return `
        <div class="row g-2 mt-2 align-items-start hx-option" data-option="${esc(o.key)}">
          <div class="col-sm-4"><label class="form-label mb-0" for="${field}">${esc(o.display_name)}</label></div>
          <div class="col-sm-8">
            <select class="form-select" name="${field}" id="${field}" aria-describedby="${field}-description">
              ${o.choices.map((c) => `<option value="${esc(c.key)}"${chosen.choice === c.key ? " selected" : ""}>${esc(c.display_name)}</option>`).join("\n")}
              ${u ? `<option value="unlisted-choice"${chosen.unlisted !== null ? " selected" : ""}>${esc(u.display_name_in_choices)}</option>` : ""}
            </select>
            <div class="form-text hx-choice-description" id="${field}-description">${desc}</div>
            ${
              u
                ? `<div class="mt-2 hx-unlisted">
              <label class="form-label small mb-1" for="${field}--unlisted-choice">${esc(u.display_name)}</label>
              <input class="form-control" type="text" name="${field}--unlisted-choice" id="${field}--unlisted-choice"
                     value="${esc(chosen.unlisted ?? "")}" autocomplete="off" spellcheck="false"${u.pattern ? ` data-pattern="${esc(u.pattern)}"` : ""}
                     aria-describedby="${field}--unlisted-choice-help">
              <div class="form-text" id="${field}--unlisted-choice-help">${
                u.message ? esc(u.message) : `Used when "${esc(u.display_name_in_choices)}" is chosen above.`
              }</div>
            </div>`
                : ""
            }
          </div>
        </div>`;
    });
    return `
    <div class="card mb-3 hx-profile${selected ? " border-primary" : ""}" data-profile="${esc(p.slug)}">
      <div class="card-body">
        <div class="form-check">
          <input class="form-check-input" type="radio" name="profile" value="${esc(p.slug)}" id="profile-item-${p.slug}"${selected ? " checked" : ""}${
            p.description_html ? ` aria-describedby="profile-item-${p.slug}-description"` : ""
          }>
          <label class="form-check-label fw-semibold" for="profile-item-${p.slug}">${esc(p.display_name)}</label>
          ${p.resources ? `<span class="ms-2 small text-body-secondary hx-resources">${esc(String(p.resources.memory))}</span>` : ""}
        </div>
        ${p.description_html ? `<div class="small text-body-secondary mt-1" id="profile-item-${p.slug}-description">${p.description_html}</div>` : ""}
        ${options.join("")}
      </div>
    </div>`;
  });
  return `
  <form enctype="multipart/form-data" id="spawn_form" action="/prefix/hub/spawn" method="post" role="form">
    <div id="hub-extensions-profiles" class="hx-profiles" data-service-prefix="/prefix/services/hub-extensions/"
         data-spawn-url="${esc(spawnUrl)}">
      <fieldset class="mb-3"><legend class="h5">Choose your environment</legend>${cards.join("")}</fieldset>
      ${total === null ? "" : `<p class="hx-price-total" aria-live="polite">Estimated cost: <strong class="hx-price-total-value">${esc(total)}</strong></p>`}
      ${json === null ? "" : `<script type="application/json" id="hub-extensions-profiles-data">${json}</script>`}
    </div>
    <br>
    <div class="feedback-container"><button type="submit" class="btn btn-jupyter form-control">Start</button></div>
  </form>`;
}

/* ---------- helpers: what a user does and sees ---------- */

const $ = <T extends Element = HTMLElement>(selector: string): T => {
  const el = document.querySelector<T>(selector);
  if (!el) throw new Error(`no ${selector}`);
  return el;
};
const byId = <T extends HTMLElement = HTMLElement>(id: string): T => $<T>(`#${CSS.escape(id)}`);

const IMAGE = "profile-option-medium--image";
const CUSTOM = `${IMAGE}--unlisted-choice`;
const SIZE = "profile-option-medium--size";
const radio = (slug: string) => byId<HTMLInputElement>(`profile-item-${slug}`);
const card = (slug: string) => $(`.hx-profile[data-profile="${slug}"]`);
const customInput = () => byId<HTMLInputElement>(CUSTOM);
const customBox = () => customInput().closest(".hx-unlisted") as HTMLElement;
const errorOf = (input: HTMLInputElement) => document.getElementById(`${input.id}-error`);
const status = () => $('.hx-copy-link [aria-live="polite"]');
const checkedSlug = () => document.querySelector<HTMLInputElement>('input[name="profile"]:checked')?.value;
const button = (text: string) =>
  [...document.querySelectorAll("button")].find((b) => b.textContent === text) as HTMLButtonElement;

function choose(id: string, value: string): void {
  const select = byId<HTMLSelectElement>(id);
  select.value = value;
  select.dispatchEvent(new Event("input", { bubbles: true }));
  select.dispatchEvent(new Event("change", { bubbles: true }));
}
function type(input: HTMLInputElement, value: string): void {
  input.focus();
  input.value = value;
  input.dispatchEvent(new Event("input", { bubbles: true }));
}
/** Like the browser: a visible message is a non-hidden, non-empty .invalid-feedback. */
function visibleError(input: HTMLInputElement): string | null {
  const el = errorOf(input);
  return el && !el.hidden && input.classList.contains("is-invalid") ? el.textContent : null;
}

let submitted: FormData[];
/** The token the hub's token API hands out in these tests (see the build panel's tests). */
let minted: string | null = null;
type SetupOptions = Parameters<typeof renderPage>[1] & { token?: string | null };
function setup(data: Data = pageData(), options: SetupOptions = {}): boolean {
  const { token = null, ...render } = options;
  // JupyterHub's page config (page.html): the requester and the XSRF token a token request needs
  const win = window as unknown as { jhdata?: object };
  minted = token;
  if (token) win.jhdata = { base_url: "/prefix/hub/", user: "ada", xsrf_token: "xsrf-ada" };
  else delete win.jhdata;
  document.body.innerHTML = renderPage(data, render);
  // happy-dom 21 parses `<option selected>` past the second option as the one before it;
  // select what a browser's parser selects.
  for (const o of document.querySelectorAll<HTMLOptionElement>("option[selected]")) o.selected = true;
  submitted = [];
  $("form").addEventListener("submit", (e) => {
    e.preventDefault(); // stand-in for the hub: record what would be posted
    submitted.push(new FormData(e.target as HTMLFormElement));
  });
  return init(document);
}
const submit = (): void => $<HTMLFormElement>("form").requestSubmit($<HTMLButtonElement>('button[type="submit"]'));

function mockClipboard(writeText = vi.fn(async (_: string) => {})) {
  Object.defineProperty(navigator, "clipboard", { value: { writeText }, configurable: true });
  return writeText;
}

beforeEach(() => {
  location.hash = "";
});
afterEach(() => {
  document.body.innerHTML = "";
  location.hash = "";
  Reflect.deleteProperty(navigator, "clipboard");
});

/* ---------- tests ---------- */

describe("profile cards", () => {
  it("keeps the server's preselection and highlights only the selected card", () => {
    expect(setup()).toBe(true);
    expect(checkedSlug()).toBe("small");
    expect(card("small").classList.contains("border-primary")).toBe(true);
    expect(card("medium").classList.contains("border-primary")).toBe(false);
  });

  it("selects a card when its select, label or card body is clicked", () => {
    setup();
    byId(IMAGE).click();
    expect(checkedSlug()).toBe("medium");
    expect(card("medium").classList.contains("border-primary")).toBe(true);
    expect(card("small").classList.contains("border-primary")).toBe(false);

    $('label[for="profile-option-small--image"]').click();
    expect(checkedSlug()).toBe("small");

    $('.hx-profile[data-profile="medium"] .card-body').click();
    expect(checkedSlug()).toBe("medium");
  });

  it("selects a card when one of its fields is changed or typed into", () => {
    setup();
    choose(SIZE, "l");
    expect(checkedSlug()).toBe("medium");
    radio("small").click();
    expect(checkedSlug()).toBe("small");
    type(customInput(), "aab");
    expect(checkedSlug()).toBe("medium");
    expect(card("medium").classList.contains("border-primary")).toBe(true);
  });

  it("follows the native radios (arrow keys change them and fire change)", () => {
    setup();
    radio("medium").checked = true;
    radio("medium").dispatchEvent(new Event("change", { bubbles: true }));
    expect(card("medium").classList.contains("border-primary")).toBe(true);
    expect(card("small").classList.contains("border-primary")).toBe(false);
  });

  it("does not change the selection when Tab only passes through another card's field", () => {
    setup();
    byId(SIZE).focus();
    expect(document.activeElement?.id).toBe(SIZE);
    expect(checkedSlug()).toBe("small");
    expect(document.querySelectorAll("[tabindex]")).toHaveLength(0);
  });
});

describe("option descriptions", () => {
  it("shows the chosen choice's description from the page data, empty when it has none", () => {
    setup();
    const description = byId(`${IMAGE}-description`);
    expect(description.innerHTML).toBe("d <em>e</em>");
    choose(IMAGE, "gpu");
    expect(description.innerHTML).toBe("");
    choose(SIZE, "s");
    expect(byId(`${SIZE}-description`).querySelector("strong")?.textContent).toBe("small");
    choose(IMAGE, "unlisted-choice");
    expect(description.innerHTML).toBe("");
    choose(IMAGE, "base");
    expect(description.querySelector("em")?.textContent).toBe("e");
  });

  it("never turns DOM text into markup", () => {
    setup();
    choose(IMAGE, "gpu"); // its display name is "GPU <b>x</b>", escaped by the template
    expect(document.querySelector("b")).toBeNull();
    expect(byId(IMAGE).querySelector('option[value="gpu"]')?.textContent).toBe("GPU <b>x</b>");
  });
});

describe("when the script runs (issue 14)", () => {
  it("leaves the server's description in place on load: no DOM work for it", () => {
    document.body.innerHTML = renderPage(pageData());
    for (const o of document.querySelectorAll<HTMLOptionElement>("option[selected]")) o.selected = true;
    const before = byId(`${IMAGE}-description`).firstChild;
    expect(init(document)).toBe(true);
    expect(byId(`${IMAGE}-description`).firstChild).toBe(before);
    choose(IMAGE, "gpu");
    expect(byId(`${IMAGE}-description`).innerHTML).toBe("");
  });

  it("enhances once the next frame is drawn, not while the page is parsed", async () => {
    document.body.innerHTML = renderPage(pageData());
    for (const o of document.querySelectorAll<HTMLOptionElement>("option[selected]")) o.selected = true;
    start(document);
    const root = byId(ROOT_ID);
    expect(root.dataset.hxReady).toBeUndefined();
    expect(document.querySelector(".hx-copy-link")).toBeNull();
    await vi.waitFor(() => expect(root.dataset.hxReady).toBe(""));
    expect(document.querySelector(".hx-copy-link")).not.toBeNull();
    expect(init(document)).toBe(false); // once
  });

  it("does nothing on a page without the form", () => {
    document.body.innerHTML = "<p>no form</p>";
    start(document);
    expect(document.body.innerHTML).toBe("<p>no form</p>");
  });
});

describe("unlisted entry", () => {
  it("is shown only while its select says unlisted-choice, and required only while its profile is selected", () => {
    setup();
    expect(customBox().hidden).toBe(true);
    choose(IMAGE, "unlisted-choice");
    expect(customBox().hidden).toBe(false);
    expect(checkedSlug()).toBe("medium");
    expect(customInput().required).toBe(true);
    radio("small").click();
    expect(customBox().hidden).toBe(false);
    expect(customInput().required).toBe(false);
    choose(IMAGE, "gpu");
    expect(customBox().hidden).toBe(true);
    expect(customInput().required).toBe(false);
  });

  it("marks a value that does not fully match the pattern, naming the field and the fix", () => {
    setup();
    choose(IMAGE, "unlisted-choice");
    const input = customInput();
    type(input, "evil");
    expect(visibleError(input)).toBe('Image: "evil" is not allowed. Enter a value matching a+:b');
    expect(input.getAttribute("aria-invalid")).toBe("true");
    expect(input.validity.valid).toBe(false);
    expect(input.validationMessage).toBe('Image: "evil" is not allowed. Enter a value matching a+:b');
    expect(input.getAttribute("aria-describedby")?.split(" ")).toEqual([`${CUSTOM}-help`, `${CUSTOM}-error`]);

    type(input, "aa:bc"); // a partial match is not a match
    expect(visibleError(input)).toBe('Image: "aa:bc" is not allowed. Enter a value matching a+:b');
    expect(document.querySelectorAll(".invalid-feedback")).toHaveLength(1);

    type(input, "aa:b");
    expect(visibleError(input)).toBeNull();
    expect(input.classList.contains("is-invalid")).toBe(false);
    expect(input.hasAttribute("aria-invalid")).toBe(false);
    expect(input.validity.valid).toBe(true);
    expect(errorOf(input)?.textContent).toBe("");
  });

  it("uses the admin's message as the fix", () => {
    setup(pageData({ message: "Use an image from a+:b." }));
    choose(IMAGE, "unlisted-choice");
    type(customInput(), "evil");
    expect(visibleError(customInput())).toBe('Image: "evil" is not allowed. Use an image from a+:b.');
  });

  it("says a value is required when left empty (on blur), not while typing", () => {
    setup();
    choose(IMAGE, "unlisted-choice");
    const input = customInput();
    type(input, "");
    expect(visibleError(input)).toBeNull();
    input.blur();
    expect(visibleError(input)).toBe("Image: a value is required. Enter a value matching a+:b");
  });

  it("blocks submission of an invalid value with the visible message and focus on the field", () => {
    setup();
    choose(IMAGE, "unlisted-choice");
    type(customInput(), "evil");
    byId(SIZE).focus();
    submit();
    expect(submitted).toHaveLength(0);
    expect(document.activeElement).toBe(customInput());
    expect(visibleError(customInput())).toBe('Image: "evil" is not allowed. Enter a value matching a+:b');

    type(customInput(), "aaa:b");
    submit();
    expect(submitted).toHaveLength(1);
    expect(submitted[0]?.get("profile")).toBe("medium");
    expect(submitted[0]?.get(IMAGE)).toBe("unlisted-choice");
    expect(submitted[0]?.get(CUSTOM)).toBe("aaa:b");
  });

  it("on a second visit after an Other... start, a listed pick posts no Other... value", () => {
    const data = pageData();
    data.selected = {
      profile: "medium",
      options: {
        ...data.selected.options,
        medium: { image: { choice: null, unlisted: "aa:b" }, size: { choice: "l", unlisted: null } },
      },
    };
    setup(data);
    expect(customInput().value).toBe("aa:b"); // the last start, shown again
    expect(customInput().disabled).toBe(false);
    choose(IMAGE, "gpu");
    expect(customInput().disabled).toBe(true); // hidden, so not submitted
    submit();
    expect(submitted).toHaveLength(1);
    expect(submitted[0]?.get(IMAGE)).toBe("gpu");
    expect(submitted[0]?.has(CUSTOM)).toBe(false);
    expect(submitted[0]?.has("profile-option-small--image--unlisted-choice")).toBe(false);
    choose(IMAGE, "unlisted-choice"); // changing one's mind brings the value back
    expect(customInput().disabled).toBe(false);
    submit();
    expect(submitted[1]?.get(CUSTOM)).toBe("aa:b");
  });

  it("blocks submission of an empty value the selected profile needs", () => {
    setup();
    choose(IMAGE, "unlisted-choice");
    submit();
    expect(submitted).toHaveLength(0);
    expect(visibleError(customInput())).toBe("Image: a value is required. Enter a value matching a+:b");
  });

  it("does not let a non-selected profile's invalid field block submission", () => {
    setup();
    choose(IMAGE, "unlisted-choice");
    type(customInput(), "evil");
    radio("small").click();
    expect(customInput().validity.valid).toBe(true);
    expect(visibleError(customInput())).toBeNull();
    submit();
    expect(submitted).toHaveLength(1);
    expect(submitted[0]?.get("profile")).toBe("small");
    // back on that profile, the value is checked again
    radio("medium").click();
    expect(visibleError(customInput())).toBe('Image: "evil" is not allowed. Enter a value matching a+:b');
  });

  it("also blocks when native validation is off, before other submit handlers run", () => {
    setup();
    $<HTMLFormElement>("form").noValidate = true;
    choose(IMAGE, "unlisted-choice");
    type(customInput(), "evil");
    byId(SIZE).focus();
    submit();
    expect(submitted).toHaveLength(0);
    expect(document.activeElement).toBe(customInput());
    expect(visibleError(customInput())).toContain('"evil" is not allowed');
  });

  it("keeps a server-preselected unlisted value and checks it", () => {
    const data = pageData();
    data.selected = { profile: "medium", options: { medium: { image: { choice: null, unlisted: "aa:b" } } } };
    setup(data);
    expect(byId<HTMLSelectElement>(IMAGE).value).toBe("unlisted-choice");
    expect(customBox().hidden).toBe(false);
    expect(customInput().value).toBe("aa:b");
    expect(customInput().validity.valid).toBe(true);
  });
});

describe("copy link", () => {
  it("copies a fragment link for listed choices, resolved against the page", async () => {
    setup();
    const writeText = mockClipboard();
    radio("medium").click();
    choose(IMAGE, "gpu");
    choose(SIZE, "l");
    button("Copy link").click();
    await vi.waitFor(() => expect(status().textContent).toMatch(/^Link copied/));
    expect(writeText).toHaveBeenCalledWith(`${location.origin}/prefix/hub/spawn#profile=medium&${IMAGE}=gpu&${SIZE}=l`);
  });

  it("copies an auto-start link with the typed value and without the select field", async () => {
    setup();
    const writeText = mockClipboard();
    choose(IMAGE, "unlisted-choice");
    type(customInput(), "aa:b");
    button("Copy start link").click();
    await vi.waitFor(() =>
      expect(status().textContent).toBe("Link copied: it fills in this form; one press of Start starts."),
    );
    expect(writeText).toHaveBeenCalledWith(
      `${location.origin}/prefix/hub/spawn?profile=medium&${CUSTOM}=aa%3Ab&${SIZE}=s`,
    );
  });

  it("uses the page's spawn URL, whatever the base_url and server name", async () => {
    setup(pageData(), { spawnUrl: "/jupyter/hub/spawn/alice/gpu-box" });
    const writeText = mockClipboard();
    button("Copy start link").click();
    await vi.waitFor(() => expect(writeText).toHaveBeenCalledTimes(1));
    expect(status().textContent).toBe("Link copied: it starts this environment.");
    expect(writeText.mock.calls[0]?.[0]).toBe(
      `${location.origin}/jupyter/hub/spawn/alice/gpu-box?profile=small&profile-option-small--image=base`,
    );
  });

  it("shows the link in a selected read-only field when there is no clipboard", () => {
    setup();
    Object.defineProperty(navigator, "clipboard", { value: undefined, configurable: true });
    button("Copy link").click();
    const shown = $<HTMLInputElement>(".hx-copy-link input");
    expect(shown.hidden).toBe(false);
    expect(shown.readOnly).toBe(true);
    expect(shown.value).toBe(`${location.origin}/prefix/hub/spawn#profile=small&profile-option-small--image=base`);
    expect(document.activeElement).toBe(shown);
    expect(status().textContent).toBe("Copy this link");
    expect(shown.name).toBe(""); // never posted with the form
  });

  it("falls back to the read-only field when the clipboard refuses", async () => {
    setup();
    mockClipboard(vi.fn(async () => Promise.reject(new Error("denied"))));
    button("Copy link").click();
    await vi.waitFor(() => expect(status().textContent).toBe("Copy this link"));
    expect($<HTMLInputElement>(".hx-copy-link input").hidden).toBe(false);
  });

  it("puts the buttons and the polite status inside the form, without submitting it", () => {
    setup();
    mockClipboard();
    const bar = $(".hx-copy-link");
    expect(bar.closest("#hub-extensions-profiles")).not.toBeNull();
    expect(bar.previousElementSibling?.tagName).toBe("FIELDSET");
    expect([...bar.querySelectorAll("button")].map((b) => [b.textContent, b.type])).toEqual([
      ["Copy link", "button"],
      ["Copy start link", "button"],
    ]);
    button("Copy link").click();
    expect(submitted).toHaveLength(0);
  });

  it("refuses to copy a selection the server would refuse", () => {
    setup();
    const writeText = mockClipboard();
    choose(IMAGE, "unlisted-choice");
    type(customInput(), "evil");
    byId(SIZE).focus();
    button("Copy link").click();
    expect(writeText).not.toHaveBeenCalled();
    expect(document.activeElement).toBe(customInput());
    expect(status().textContent).toBe('Image: "evil" is not allowed. Enter a value matching a+:b');
  });
});

describe("selection in the fragment", () => {
  async function copiedLink(label: string): Promise<string> {
    const writeText = mockClipboard();
    button(label).click();
    await vi.waitFor(() => expect(writeText).toHaveBeenCalled());
    return writeText.mock.calls[0]?.[0] as string;
  }
  const selection = () => ({
    profile: checkedSlug(),
    image: byId<HTMLSelectElement>(IMAGE).value,
    custom: customInput().value,
    customShown: !customBox().hidden,
    size: byId<HTMLSelectElement>(SIZE).value,
  });

  it("round-trips a copied link with an unlisted value", async () => {
    setup();
    choose(IMAGE, "unlisted-choice");
    type(customInput(), "aa:b");
    choose(SIZE, "l");
    const before = selection();
    const link = new URL(await copiedLink("Copy link"));

    location.hash = link.hash;
    setup(); // a fresh page, the server preselecting "small"
    expect(selection()).toEqual(before);
    expect(before).toEqual({
      profile: "medium",
      image: "unlisted-choice",
      custom: "aa:b",
      customShown: true,
      size: "l",
    });
    expect(card("medium").classList.contains("border-primary")).toBe(true);
    expect(card("small").classList.contains("border-primary")).toBe(false);
    expect(customInput().required).toBe(true);
  });

  it("round-trips a copied link with listed choices", async () => {
    setup();
    choose(IMAGE, "gpu");
    const link = new URL(await copiedLink("Copy link"));
    location.hash = link.hash;
    setup();
    expect(selection()).toMatchObject({ profile: "medium", image: "gpu", customShown: false, size: "s" });
    expect(byId(`${IMAGE}-description`).innerHTML).toBe("");
  });

  it("applies a fragment link opened while the form is shown", () => {
    setup();
    location.hash = `#profile=medium&${IMAGE}=gpu&${SIZE}=l`;
    window.dispatchEvent(new HashChangeEvent("hashchange"));
    expect(selection()).toMatchObject({ profile: "medium", image: "gpu", size: "l" });
    expect(card("medium").classList.contains("border-primary")).toBe(true);
  });

  it("ignores unknown profiles, options and choices silently", () => {
    const warn = vi.spyOn(console, "warn");
    location.hash = "#profile=huge&profile-option-huge--image=base";
    setup();
    expect(checkedSlug()).toBe("small");

    location.hash = `#profile=medium&${IMAGE}=nope&${SIZE}=l&profile-option-medium--colour=red`;
    setup();
    expect(selection()).toMatchObject({ profile: "medium", image: "base", size: "l", customShown: false });
    expect(warn).not.toHaveBeenCalled();
  });

  it("applies a link made by jupyterhub-fancy-profiles", () => {
    const config = {
      profile: "medium",
      image: "unlisted_choice",
      "image:unlisted_choice": "aa:b",
      size: "l",
      "size:unlisted_choice": "",
    };
    location.hash = "#" + new URLSearchParams([["fancy-forms-config", JSON.stringify(config)]]).toString();
    setup();
    expect(selection()).toEqual({
      profile: "medium",
      image: "unlisted-choice",
      custom: "aa:b",
      customShown: true,
      size: "l",
    });
    expect(submitted).toHaveLength(0);
  });

  it("lets a listed choice win over a typed value, as the server does", () => {
    location.hash = `#profile=medium&${IMAGE}=gpu&${CUSTOM}=aa:b`;
    setup();
    expect(selection()).toMatchObject({ image: "gpu", customShown: false });
  });
});

describe("without usable page data", () => {
  function plainFormStillWorks(): void {
    expect(document.querySelector(".hx-copy-link")).toBeNull();
    expect(customBox().hidden).toBe(false);
    byId(IMAGE).click();
    expect(checkedSlug()).toBe("small"); // no enhancement, no surprise
    radio("medium").click();
    byId<HTMLSelectElement>(IMAGE).value = "unlisted-choice";
    customInput().value = "aa:b";
    submit();
    expect(submitted).toHaveLength(1);
    expect(submitted[0]?.get(CUSTOM)).toBe("aa:b");
  }

  it.each([
    ["broken JSON", "{not json"],
    ["JSON without profiles", '{"selected": {}}'],
    ["a missing script", null],
  ])("leaves the plain form working and warns once: %s", (_, json) => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    expect(setup(pageData(), { json })).toBe(false);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]?.[0])).toContain("hub-extensions");
    plainFormStillWorks();
  });

  it("does nothing on a page without the form, and enhances a form only once", () => {
    const warn = vi.spyOn(console, "warn");
    document.body.innerHTML = "<p>other page</p>";
    expect(init(document)).toBe(false);
    expect(setup()).toBe(true);
    expect(init(document)).toBe(false);
    expect(document.querySelectorAll(".hx-copy-link")).toHaveLength(1);
    expect(warn).not.toHaveBeenCalled();
  });
});

describe("links fill in, people start", () => {
  it("a query link the hub held back for a click (data.link) gets Start focused, and nothing is submitted", async () => {
    const data = pageData();
    data.link = { items: [{ label: "Image", value: "evil:1", typed: true }], problem: null, built: false };
    expect(setup(data)).toBe(true);
    await vi.waitFor(() => expect(document.activeElement).toBe($('button[type="submit"]')));
    expect(submitted).toHaveLength(0);
  });

  it("an old start fragment without a build fills in and focuses Start, and submits nothing", async () => {
    history.replaceState(null, "", `#profile=medium&${CUSTOM}=aa%3Ab&hx-start=1`);
    expect(setup()).toBe(true);
    await vi.waitFor(() => expect(document.activeElement).toBe($('button[type="submit"]')));
    expect(byId<HTMLSelectElement>(IMAGE).value).toBe("unlisted-choice");
    expect(customInput().value).toBe("aa:b");
    expect(submitted).toHaveLength(0);
  });
});

describe("side effects", () => {
  it("uses no storage and no network", async () => {
    const fetchSpy = vi.fn();
    vi.stubGlobal("fetch", fetchSpy);
    const setItem = vi.spyOn(Storage.prototype, "setItem");
    const getItem = vi.spyOn(Storage.prototype, "getItem");
    const cookie = vi.spyOn(document, "cookie", "set");
    setup();
    mockClipboard();
    choose(IMAGE, "unlisted-choice");
    type(customInput(), "aa:b");
    button("Copy link").click();
    submit();
    await vi.waitFor(() => expect(status().textContent).toMatch(/^Link copied/));
    expect(fetchSpy).not.toHaveBeenCalled();
    expect(setItem).not.toHaveBeenCalled();
    expect(getItem).not.toHaveBeenCalled();
    expect(cookie).not.toHaveBeenCalled();
    vi.unstubAllGlobals();
  });
});

/* ---------- the build panel (issue 4), with a stand-in for the service's endpoints ---------- */

describe("build from a repository", () => {
  const SHA = "a".repeat(40);
  const IMAGE_NAME = "registry.local/hx-demo-repo:" + SHA;
  type Sent = { url: string; method: string; auth: string | null };
  let sent: Sent[];
  /** What the stand-in service answers to a build request: SSE text, or a status + message. */
  let answer: (url: string) => { events?: object[]; status?: number; message?: string };

  const sse = (events: object[]): string => events.map((e) => `data: ${JSON.stringify(e)}\n\n`).join(":keepalive\n\n");
  const builtEvents = (cacheHit = false): object[] => [
    { phase: "waiting", message: `Resolved HEAD to ${SHA}\n`, sha: SHA, buildId: "b7", imageName: IMAGE_NAME },
    ...(cacheHit
      ? []
      : [
          { phase: "fetching", message: "Fetching the repository\n" },
          { phase: "building", message: "Step 1/2 : FROM base\n" },
          { phase: "building", message: "Step 2/2 : COPY . .\n" },
          { phase: "built", message: "Built image\n" },
        ]),
    {
      phase: "ready",
      message: cacheHit ? "Found built image (cache hit)\n" : "Ready\n",
      imageName: IMAGE_NAME,
      cacheHit,
      signature: "sig-123",
    },
  ];

  beforeEach(() => {
    sent = [];
    answer = () => ({ events: builtEvents() });
    panelModule.load = async () => panelSource;
    sessionStorage.clear();
    vi.stubGlobal("fetch", async (url: string, init: RequestInit = {}) => {
      const method = init.method ?? "GET";
      const headers = new Headers(init.headers);
      sent.push({ url, method, auth: headers.get("Authorization") });
      if (url.endsWith("/tokens")) {
        // the hub's token API: only with the page's XSRF token, for the page's own user
        const ok =
          method === "POST" && headers.get("X-XSRFToken") === "xsrf-ada" && url === "/prefix/hub/api/users/ada/tokens";
        if (!ok || !minted) return Response.json({ status: 403, message: "Forbidden" }, { status: 403 });
        expect(JSON.parse(String(init.body))).toEqual(TOKEN_REQUEST);
        return Response.json(
          { token: minted, expires_at: new Date(Date.now() + 3600_000).toISOString() },
          { status: 201 },
        );
      }
      if (url.includes("/api/builds")) {
        if (method === "DELETE") return new Response(null, { status: 204 });
        return Response.json({ builds: [{ id: "b7", repository: "x", ref: "HEAD", status: "building" }] });
      }
      const a = answer(url);
      if (a.events) return new Response(sse(a.events), { headers: { "Content-Type": "text/event-stream" } });
      return Response.json({ status: a.status, message: a.message }, { status: a.status ?? 500 });
    });
  });

  const TOKEN_REQUEST = { scopes: ["access:services!service=hub-extensions"], expires_in: 3600, note: "form" };
  function buildData(): Data {
    const data = pageData();
    data.profiles[1]!.options[0]!.dynamic_builds = true;
    data.builds = {
      providers: [
        { id: "gh", displayName: "GitHub" },
        { id: "git", displayName: "Git repository" },
      ],
      token: TOKEN_REQUEST,
    };
    return data;
  }
  const tokenRequests = () => sent.filter((r) => r.url.endsWith("/tokens"));
  const buildRequests = () => sent.filter((r) => r.url.includes("/build/"));
  const entry = () => byId<HTMLSelectElement>(IMAGE).querySelector<HTMLOptionElement>("option[data-hx-build]")!;
  const chooseBuild = (): void => {
    entry().selected = true;
    byId(IMAGE).dispatchEvent(new Event("change", { bubbles: true }));
  };
  const panel = () => $(`.hx-build[data-build-for="${IMAGE}"]`);
  const repoInput = () => byId<HTMLInputElement>(`${IMAGE}--build-repo`);
  const refInput = () => byId<HTMLInputElement>(`${IMAGE}--build-ref`);
  const providerSelect = () => byId<HTMLSelectElement>(`${IMAGE}--build-provider`);
  const buildStatus = () => $(".hx-build-status").textContent;
  const settle = async (): Promise<void> => {
    for (let i = 0; i < 20; i++) await new Promise((r) => setTimeout(r, 0));
  };
  async function openPanel(): Promise<void> {
    expect(setup(buildData(), { token: "form-token" })).toBe(true);
    radio("medium").click();
    chooseBuild();
    await settle();
  }

  it("offers the entry only on options marked for builds, and loads the panel on first use", async () => {
    expect(setup(buildData(), { token: "form-token" })).toBe(true);
    expect(entry().textContent).toBe("Build from a repository...");
    expect(document.querySelectorAll("option[data-hx-build]")).toHaveLength(1);
    expect(document.querySelector(".hx-build")).toBeNull(); // nothing loaded until chosen
    radio("medium").click();
    chooseBuild();
    await settle();
    expect(sent).toEqual([]); // no token until a build is asked for
    expect(panel().hidden).toBe(false);
    expect(customBox().hidden).toBe(true);
    expect([...providerSelect().options].map((o) => o.textContent)).toEqual(["GitHub", "Git repository"]);
    expect(refInput().value).toBe("HEAD");
    expect(byId(`${IMAGE}-description`).textContent).toContain("repo2docker");
  });

  it("refuses Start until the build is ready, then posts the signed image", async () => {
    await openPanel();
    submit();
    expect(submitted).toHaveLength(0);
    expect(buildStatus()).toMatch(/Build the environment first/);

    type(repoInput(), "https://github.com/jupyterhub/jupyterhub/");
    button("Build").click();
    await settle();
    expect(tokenRequests()).toHaveLength(1); // minted on first use, for the page's user
    const request = buildRequests()[0]!;
    expect(request.url).toBe("/prefix/services/hub-extensions/build/gh/jupyterhub/jupyterhub/HEAD");
    expect(request.auth).toBe("token form-token");
    expect(buildStatus()).toBe("Ready: the image is built. Press Start to launch it.");
    expect($(".hx-build-commit").textContent).toBe(`Commit ${SHA}`);
    expect($<HTMLDetailsElement>(".hx-build-log").hidden).toBe(false);
    expect($(".hx-build-log-text").textContent).toContain("Step 2/2 : COPY . .");

    submit();
    expect(submitted).toHaveLength(1);
    const posted = submitted[0]!;
    expect(posted.get("profile")).toBe("medium");
    expect(posted.get(IMAGE)).toBe("unlisted-choice");
    expect(posted.getAll(CUSTOM)).toEqual([IMAGE_NAME]); // the typed-value box is not posted
    expect(posted.get(`${IMAGE}--build-signature`)).toBe("sig-123");
  });

  it("says a cache hit is ready without showing a log", async () => {
    answer = () => ({ events: builtEvents(true) });
    await openPanel();
    type(repoInput(), "org/repo");
    button("Build").click();
    await settle();
    expect(buildStatus()).toMatch(/^Ready: this commit was built before \(cache hit\)/);
    expect($<HTMLDetailsElement>(".hx-build-log").hidden).toBe(true);
  });

  it("checks the fields before sending, and shows the server's 400 on its field", async () => {
    await openPanel();
    type(repoInput(), "not a repo");
    button("Build").click();
    await settle();
    expect(sent.filter((r) => r.url.includes("/build/"))).toHaveLength(0);
    expect(visibleError(repoInput())).toMatch(/^Repository: no spaces/);

    answer = () => ({ status: 400, message: "ref: 'nope' is not a branch, tag or commit of org/repo." });
    type(repoInput(), "org/repo");
    type(refInput(), "nope");
    button("Build").click();
    await settle();
    expect(visibleError(refInput())).toBe("Ref: 'nope' is not a branch, tag or commit of org/repo.");
    expect(buildStatus()).toBe("Ref: 'nope' is not a branch, tag or commit of org/repo.");
    submit();
    expect(submitted).toHaveLength(0);
  });

  it("encodes git URLs and refs into the spec", async () => {
    await openPanel();
    providerSelect().value = "git";
    providerSelect().dispatchEvent(new Event("change", { bubbles: true }));
    type(repoInput(), "http://127.0.0.1:9418/r.git");
    type(refInput(), "feature/x");
    button("Build").click();
    await settle();
    expect(sent.find((r) => r.url.includes("/build/"))!.url).toBe(
      "/prefix/services/hub-extensions/build/git/http%3A%2F%2F127.0.0.1%3A9418%2Fr.git/feature%2Fx",
    );
  });

  it("a failed build says why and keeps Start refused", async () => {
    answer = () => ({
      events: [
        { phase: "waiting", message: "Resolved\n", sha: SHA, buildId: "b8" },
        { phase: "building", message: "Step 1/1 : RUN exit 3\n" },
        { phase: "failed", message: "The command returned a non-zero code: 3\n" },
      ],
    });
    await openPanel();
    type(repoInput(), "org/repo");
    button("Build").click();
    await settle();
    expect(buildStatus()).toMatch(/^Build failed: The command returned a non-zero code: 3/);
    submit();
    expect(submitted).toHaveLength(0);
  });

  it("copies a link with the repository and ref; opened, it builds and starts only on the user's press", async () => {
    const writeText = mockClipboard();
    await openPanel();
    type(repoInput(), "org/repo");
    type(refInput(), "v1");
    button("Copy start link").click();
    await settle();
    const link = new URL(writeText.mock.calls[0]![0]);
    expect(link.search).toBe(""); // /hub/spawn?... would start without building
    const params = new URLSearchParams(link.hash.slice(1));
    expect(params.get("profile")).toBe("medium");
    expect(params.get(`${IMAGE}--build-provider`)).toBe("gh");
    expect(params.get(`${IMAGE}--build-repo`)).toBe("org/repo");
    expect(params.get(`${IMAGE}--build-ref`)).toBe("v1");
    expect(params.get("hx-start")).toBe("1");

    // a colleague opens it: the form is filled in, says what would run, and waits
    document.body.innerHTML = "";
    sent = [];
    sessionStorage.clear();
    history.replaceState(null, "", link.hash); // as a fresh load: no hashchange for earlier pages
    expect(setup(buildData(), { token: "colleague-token" })).toBe(true);
    await settle();
    expect(sent).toEqual([]); // no token, no build
    expect(submitted).toHaveLength(0);
    expect(buildStatus()).toBe(
      "A link filled this in: GitHub org/repo at v1. Nothing has been built or started. " +
        "Check the repository, then press Build and start: it runs with your files and access.",
    );
    const go = button("Build and start");
    expect(document.activeElement).toBe(go);
    expect(location.hash).not.toContain("hx-start"); // a reload offers the plain form

    go.click(); // the colleague's own press: build (here: a cache hit), then start
    await settle();
    expect(buildRequests().map((r) => [r.url, r.auth])).toEqual([
      ["/prefix/services/hub-extensions/build/gh/org/repo/v1", "token colleague-token"],
    ]);
    expect(submitted).toHaveLength(1);
    expect(submitted[0]!.get(`${IMAGE}--build-signature`)).toBe("sig-123");
    expect(button("Build")).toBeDefined(); // a second build does not start again
  });

  it("a plain link with a build fills in the panel and focuses Build, and builds nothing", async () => {
    location.hash = `#profile=medium&${IMAGE}--build-provider=gh&${IMAGE}--build-repo=evil%2Frepo&${IMAGE}--build-ref=main`;
    expect(setup(buildData(), { token: "t" })).toBe(true);
    await settle();
    expect(sent).toEqual([]);
    expect(buildStatus()).toMatch(/^A link filled this in: GitHub evil\/repo at main\. Nothing has been built\. /);
    expect(document.activeElement).toBe(button("Build"));
  });

  it("reuses one unexpired token across builds and reloads of the tab, and mints a new one when it is refused", async () => {
    await openPanel();
    type(repoInput(), "org/repo");
    button("Build").click();
    await settle();
    button("Build").click();
    await settle();
    document.body.innerHTML = "";
    expect(setup(buildData(), { token: "second-token" })).toBe(true); // a reload
    radio("medium").click();
    chooseBuild();
    await settle();
    type(repoInput(), "org/repo");
    button("Build").click();
    await settle();
    expect(tokenRequests()).toHaveLength(1);
    expect(buildRequests().map((r) => r.auth)).toEqual(Array(4).fill("token form-token")); // 3 + re-attach
    // the service refuses it (revoked): dropped, a new one minted, the build asked again
    let refusals = 1;
    answer = () =>
      refusals-- > 0
        ? { events: [{ phase: "failed", status_code: 403, message: "Forbidden\n" }] }
        : { events: builtEvents(true) };
    button("Build").click();
    await settle();
    expect(tokenRequests()).toHaveLength(2);
    expect(
      buildRequests()
        .slice(-2)
        .map((r) => r.auth),
    ).toEqual(["token form-token", "token second-token"]);
    expect(buildStatus()).toMatch(/^Ready/);
  });

  it("a jupyterhub-fancy-profiles link fills in the repository and ref, and neither builds nor starts", async () => {
    const config = {
      profile: "medium",
      image: "--extra-selectable-item",
      "image:unlisted_choice": "",
      "image:binderProvider": "gh",
      "image:binderRepo": "org/repo",
      "image:ref": "v1.0",
      size: "l",
    };
    location.hash = "#" + new URLSearchParams([["fancy-forms-config", JSON.stringify(config)]]).toString();
    expect(setup(buildData(), { token: "t" })).toBe(true);
    await settle();
    expect(checkedSlug()).toBe("medium");
    expect(entry().selected).toBe(true);
    expect(panel().hidden).toBe(false);
    expect([providerSelect().value, repoInput().value, refInput().value]).toEqual(["gh", "org/repo", "v1.0"]);
    expect(byId<HTMLSelectElement>(SIZE).value).toBe("l");
    expect(sent).toEqual([]); // nothing asked of the build service
    expect(submitted).toHaveLength(0);
  });

  it("Build and start, pressed while the page still loads, starts once the page is whole", async () => {
    // the script is async: it may run before the Start button and spawn.html's own handler
    const hash = `#profile=medium&${IMAGE}--build-provider=gh&${IMAGE}--build-repo=org%2Frepo&${IMAGE}--build-ref=HEAD&hx-start=1`;
    history.replaceState(null, "", hash); // as a fresh load: no hashchange for earlier pages
    Object.defineProperty(document, "readyState", { configurable: true, get: () => "loading" });
    try {
      expect(setup(buildData(), { token: "colleague-token" })).toBe(true);
      await settle();
      button("Build and start").click();
      await settle();
      expect(buildStatus()).toMatch(/^Ready/);
      expect(submitted).toHaveLength(0); // built, but the page is not parsed to its end yet
    } finally {
      delete (document as { readyState?: string }).readyState; // back to jsdom's own
    }
    document.dispatchEvent(new Event("DOMContentLoaded"));
    expect(submitted).toHaveLength(1);
    expect(submitted[0]!.get(`${IMAGE}--build-signature`)).toBe("sig-123");
  });

  it("re-attaches to this tab's running build after a reload", async () => {
    await openPanel();
    type(repoInput(), "org/repo");
    button("Build").click();
    await settle();
    expect(JSON.parse(sessionStorage.getItem(`hub-extensions:build:${IMAGE}`)!)).toMatchObject({
      id: "b7",
      profile: "medium",
      provider: "gh",
      repo: "org/repo",
      ref: "HEAD",
    });
    // reload: the stored build is still running on the service, so the new page follows it
    answer = () => ({ events: builtEvents() });
    sent = [];
    document.body.innerHTML = "";
    expect(setup(buildData(), { token: "fresh-token" })).toBe(true);
    await settle();
    expect(checkedSlug()).toBe("medium");
    expect(entry().selected).toBe(true);
    expect(repoInput().value).toBe("org/repo");
    expect(sent.map((r) => [r.url, r.auth])).toEqual([
      ["/prefix/services/hub-extensions/api/builds", "token form-token"], // the tab's token, reused
      ["/prefix/services/hub-extensions/build/gh/org/repo/HEAD", "token form-token"],
    ]);
    expect(buildStatus()).toMatch(/^Ready/);
  });

  it("a link opened where builds are unavailable fills in the panel and keeps saying why", async () => {
    history.replaceState(null, "", `#profile=medium&${IMAGE}--build-repo=org%2Frepo&hx-start=1`);
    expect(setup(buildData())).toBe(true); // no jhdata: no way to get a token
    await settle();
    expect(repoInput().value).toBe("org/repo");
    expect(buildStatus()).toBe("Builds are not available from this page. Reload it.");
    expect(button("Build").disabled).toBe(true);
    expect(sent).toEqual([]);
  });

  it("without a token the panel says builds are unavailable and sends nothing", async () => {
    expect(setup(buildData())).toBe(true);
    radio("medium").click();
    chooseBuild();
    await settle();
    expect(button("Build").disabled).toBe(true);
    expect(buildStatus()).toBe("Builds are not available from this page. Reload it.");
    expect(sent).toHaveLength(0);
  });
});

/* ---------- prices (issue 7) ---------- */

describe("estimated cost", () => {
  function pricedData(): Data {
    const data = pageData() as Data & { pricing: unknown };
    data.pricing = {
      currency: "EUR",
      mode: "resources",
      overhead: 1,
      version: {
        cpu_hour: 0.1,
        memory_gib_hour: 0.01,
        gpu_hour: { default: 1 },
        node_types: {},
        default_node_type: null,
        profiles: { small: { hour: 0.02, node_type: null } },
      },
    };
    const [small, medium] = data.profiles as Array<Profile & { price?: unknown }>;
    small!.price = { footprint: { cpu: 1 }, hour: 0.02 };
    medium!.price = { footprint: { cpu: 2, memory_bytes: 2 ** 30 }, hour: 0.21 };
    const image = medium!.options[0]! as Option & { choices: Array<Choice & { price?: unknown }> };
    image.choices[0]!.price = { footprint: {}, hour: 0.21 };
    image.choices[1]!.price = { footprint: { gpu: 1 }, hour: 1.21 };
    return data;
  }
  const total = () => $(".hx-price-total-value").textContent;

  it("totals the selected profile with its chosen options, live", () => {
    expect(setup(pricedData(), { total: "0.020 EUR per hour" })).toBe(true);
    expect(total()).toBe("0.020 EUR per hour"); // Small: its flat rate (3 decimals under 0.1)
    radio("medium").click();
    expect(total()).toBe("0.21 EUR per hour"); // 2 CPU + 1 GiB
    choose(IMAGE, "gpu");
    expect(total()).toBe("1.21 EUR per hour"); // + 1 GPU
    choose(IMAGE, "unlisted-choice");
    expect(total()).toBe("0.21 EUR per hour"); // a custom image costs what the profile costs
    expect($(".hx-price-total").getAttribute("aria-live")).toBe("polite");
  });

  it("leaves the server's text alone without a price table", () => {
    expect(setup(pageData(), { total: "server text" })).toBe(true);
    radio("medium").click();
    expect(total()).toBe("server text");
  });
});
