// Drafts: the photos and videos of a sitting, sealed in the vault the moment they are
// taken, so that a reload or a killed app loses none. A draft leaves only when it is
// sent (moved into the queue) or discarded by the nurse.
import { siteLabel } from "./bodysites.js";
import { $, announce, formatTime, personName } from "./ui.js";
import { vaultDelete, vaultFile, vaultList, vaultMeta, vaultPut, vaultShredIfEmpty, vaultUpdate } from "./vault.js";

function described(shot, sitting) {
  return {
    sitting,
    kind: shot.kind,
    type: shot.file.type,
    name: shot.file.name || "",
    takenAt: shot.takenAt.toISOString(),
    site: shot.site,
    note: shot.note || "",
    kept: shot.kept,
    quality: shot.quality || null,
    wound: shot.wound || null,
  };
}

/** Seals a shot just taken; `sitting` (sitting.js) is kept with it, to resume from. */
export function draftSave(shot, sitting) {
  return vaultPut("drafts", shot.id, shot.file, described(shot, sitting), { createdAt: Date.now() });
}

/** Reseals what changed since (body site, note, the sitting's order or session). */
export function draftUpdate(shot, sitting) {
  return vaultUpdate("drafts", shot.id, {}, described(shot, sitting));
}

export async function draftDiscard(id) {
  await vaultDelete("drafts", id);
  await vaultShredIfEmpty();
}

/** The sittings that have drafts, oldest first: `[{sitting, shots}]`, shots as shots.js keeps them. */
export async function draftsLoad() {
  const sittings = new Map();
  for (const record of (await vaultList("drafts")).sort((a, b) => a.createdAt - b.createdAt)) {
    let meta;
    let blob;
    try {
      meta = await vaultMeta(record);
      blob = await vaultFile(record, meta.type);
    } catch {
      // Sealed with a key this phone no longer has: the bytes are noise, nobody can send them.
      await draftDiscard(record.id);
      continue;
    }
    const file = new File([blob], meta.name || "capture", { type: meta.type });
    const shot = { id: record.id, file, kind: meta.kind, url: null, takenAt: new Date(meta.takenAt), site: meta.site, note: meta.note, kept: meta.kept, quality: meta.quality, wound: meta.wound || null };
    const group = sittings.get(meta.sitting.id) || { sitting: meta.sitting, shots: [] };
    group.sitting = meta.sitting; // the latest copy
    group.shots.push(shot);
    sittings.set(meta.sitting.id, group);
  }
  return [...sittings.values()];
}

/**
 * Shows the sittings with drafts in `#drafts` (the patient screen): what is on the
 * phone, not sent, with Resume and Discard. `onResume(group)` takes the sitting up again.
 */
export async function draftsOffer(onResume) {
  const container = $("#drafts");
  container.replaceChildren();
  let groups = [];
  try {
    groups = await draftsLoad();
  } catch {
    groups = [];
  }
  container.hidden = !groups.length;
  if (!groups.length) return;
  const title = document.createElement("h2");
  title.textContent = "Not sent yet";
  container.append(title);
  for (const group of groups) {
    const { sitting, shots } = group;
    const card = document.createElement("div");
    card.className = "card draft";
    const who = personName(sitting.patient.name) || sitting.patient.id;
    const text = document.createElement("p");
    const count = `${shots.length} ${shots.length === 1 ? "capture" : "captures"}`;
    text.textContent = `${count} of ${who} (${sitting.patient.id}), taken ${formatTime(shots[0].takenAt)}, kept encrypted on this phone.`;
    const sites = document.createElement("p");
    sites.className = "hint";
    sites.textContent = shots.map((shot) => (shot.site ? siteLabel(shot.site) : "no body site yet")).join(", ");
    const row = document.createElement("div");
    row.className = "actions";
    const resume = document.createElement("button");
    resume.type = "button";
    resume.className = "primary";
    resume.textContent = "Continue with them";
    resume.setAttribute("aria-label", `Continue with them: the ${count} of ${who}`);
    resume.addEventListener("click", () => onResume(group));
    const discard = document.createElement("button");
    discard.type = "button";
    discard.className = "secondary";
    discard.textContent = "Discard them";
    discard.setAttribute("aria-label", `Discard them: the ${count} of ${who}`);
    discard.addEventListener("click", async () => {
      if (!confirm(`Delete the ${count} of ${who} from this phone? They have not been sent.`)) return;
      for (const shot of shots) await draftDiscard(shot.id);
      announce(`${count} of ${who} discarded`);
      draftsOffer(onResume);
    });
    row.append(resume, discard);
    card.append(text, sites, row);
    container.append(card);
  }
  announce(`${groups.reduce((n, g) => n + g.shots.length, 0)} captures taken earlier are not sent yet`);
}
