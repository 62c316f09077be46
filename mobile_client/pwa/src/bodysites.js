// Body sites the map offers, with their SNOMED CT codes. Every code is taken from
// DICOM PS3.16 (CID 4031 Common Anatomic Region, CID 4029 Dermatology Anatomic
// Site), the same table the hub uses (encapsulate/context/data/body_sites.csv); none is made up.
// `paired`: the structure has a right and a left, so the side must be R, L or B.

export const SITES = {
  head: { code: "SCT:69536005", meaning: "Head", paired: false },
  face: { code: "SCT:73897004", meaning: "Skin of face", paired: false },
  neck: { code: "SCT:45048000", meaning: "Neck", paired: false },
  chest: { code: "SCT:816094009", meaning: "Chest", paired: false },
  breast: { code: "SCT:76752008", meaning: "Breast", paired: true },
  abdomen: { code: "SCT:818981001", meaning: "Abdomen", paired: false },
  pelvis: { code: "SCT:816092008", meaning: "Pelvis", paired: false },
  back: { code: "SCT:66643007", meaning: "Skin of back", paired: false },
  lowerBack: { code: "SCT:113182001", meaning: "Skin of lower back", paired: false },
  sacrum: { code: "SCT:54735007", meaning: "Sacrum", paired: false },
  buttock: { code: "SCT:22180002", meaning: "Skin of buttock", paired: true },
  shoulder: { code: "SCT:16982005", meaning: "Shoulder", paired: true },
  upperArm: { code: "SCT:40983000", meaning: "Upper arm", paired: true },
  elbow: { code: "SCT:16953009", meaning: "Elbow joint", paired: true },
  forearm: { code: "SCT:14975008", meaning: "Forearm", paired: true },
  wrist: { code: "SCT:74670003", meaning: "Wrist joint", paired: true },
  hand: { code: "SCT:85562004", meaning: "Hand", paired: true },
  finger: { code: "SCT:7569003", meaning: "Finger", paired: true },
  hip: { code: "SCT:29836001", meaning: "Hip", paired: true },
  thigh: { code: "SCT:68367000", meaning: "Thigh", paired: true },
  knee: { code: "SCT:72696002", meaning: "Knee", paired: true },
  lowerLeg: { code: "SCT:30021000", meaning: "Lower leg", paired: true },
  ankle: { code: "SCT:70258002", meaning: "Ankle joint", paired: true },
  foot: { code: "SCT:56459004", meaning: "Foot", paired: true },
  heel: { code: "SCT:84607009", meaning: "Skin of heel", paired: true },
  toe: { code: "SCT:29707007", meaning: "Toe", paired: true },
};

export const SIDE_WORDS = { R: "right", L: "left", B: "both sides", U: "" };

export function siteLabel(site) {
  if (!site) return "";
  const side = SIDE_WORDS[site.laterality] || "";
  return side ? `${site.meaning} (${side})` : site.meaning;
}

// The map has two levels, so that every target is at least 44 x 44 CSS px on a
// phone (WCAG 2.5.5): the whole figure, whose six regions are drawn at a fixed
// scale (1.12 px per unit, the narrowest region 40 units wide), and one detail
// drawing per region at 1 px per unit, where every part is 48 units or more. The
// whole figure is drawn as the nurse sees the patient: front view, the patient's
// right on the viewer's left; back view, on the viewer's right.

const OVERVIEW_SCALE = 1.12;
const SVG = "http://www.w3.org/2000/svg";

// The outline of the whole figure, drawn only (aria-hidden).
const OUTLINE = [
  ["circle", 100, 32, 24],
  ["rect", 90, 56, 20, 16],
  ["rect", 66, 72, 68, 134],
  ...[0, 1].flatMap((far) => {
    const x = (left, width = 0) => (far ? 200 - left - width : left);
    return [
      ["circle", x(58), 82, 12],
      ["rect", x(36, 20), 92, 20, 110],
      ["ellipse", x(43), 224, 11, 13],
      ["rect", x(68, 30), 206, 30, 176],
      ["ellipse", x(81), 400, 15, 9],
    ];
  }),
];

// Regions of the whole figure (x, y, width, height in figure units). `near` is the
// viewer's left: the patient's right in the front view, their left in the back view.
const REGIONS = [
  ["head", "Head and neck", 60, 4, 80, 68, null],
  ["trunk", "Trunk", 60, 72, 80, 134, null],
  ["arm", "arm", 0, 70, 60, 170, "near"],
  ["arm", "arm", 140, 70, 60, 170, "far"],
  ["leg", "leg", 60, 206, 40, 210, "near"],
  ["leg", "leg", 100, 206, 40, 210, "far"],
];

// The detail drawings: [width, height, parts], each part [site key, shape, ...geometry, side?].
const ARM = [120, 422, [
  ["shoulder", "circle", 60, 30, 28],
  ["upperArm", "rect", 34, 62, 52, 64],
  ["elbow", "circle", 60, 154, 25],
  ["forearm", "rect", 35, 183, 50, 64],
  ["wrist", "rect", 30, 251, 60, 48],
  ["hand", "ellipse", 60, 333, 34, 30],
  ["finger", "rect", 36, 367, 48, 52],
]];
const LEG_TOP = [
  ["hip", "rect", 20, 2, 80, 52],
  ["thigh", "rect", 30, 58, 60, 80],
  ["knee", "rect", 32, 142, 56, 48],
  ["lowerLeg", "rect", 34, 194, 52, 76],
  ["ankle", "rect", 34, 274, 52, 48],
];
const DETAIL = {
  front: {
    head: [180, 202, [
      ["head", "rect", 30, 2, 120, 52],
      ["face", "ellipse", 90, 100, 56, 42],
      ["neck", "rect", 60, 148, 60, 52],
    ]],
    // The patient faces the nurse: their right breast on the viewer's left.
    trunk: [220, 272, [
      ["chest", "rect", 10, 2, 200, 110],
      ["breast", "circle", 60, 62, 28, "near"],
      ["breast", "circle", 160, 62, 28, "far"],
      ["abdomen", "rect", 10, 116, 200, 90],
      ["pelvis", "rect", 10, 210, 200, 60],
    ]],
    arm: ARM,
    leg: [120, 432, [...LEG_TOP, ["foot", "ellipse", 60, 352, 38, 26], ["toe", "rect", 34, 382, 52, 48]]],
  },
  back: {
    head: [180, 202, [
      ["head", "circle", 90, 72, 68],
      ["neck", "rect", 60, 146, 60, 52],
    ]],
    // Seen from behind: the patient's left buttock on the viewer's left.
    trunk: [220, 270, [
      ["back", "rect", 10, 2, 200, 100],
      ["lowerBack", "rect", 10, 106, 200, 76],
      ["buttock", "rect", 10, 186, 72, 82, "near"],
      ["sacrum", "rect", 86, 186, 48, 56],
      ["buttock", "rect", 138, 186, 72, 82, "far"],
    ]],
    arm: ARM,
    leg: [120, 432, [...LEG_TOP, ["heel", "ellipse", 60, 352, 30, 26], ["foot", "rect", 26, 382, 68, 48]]],
  },
};

const SIDE_OF_NEAR = { front: "R", back: "L" };
const WORD = { R: "Right", L: "Left" };
const REGION_OF_SITE = {
  head: "head", face: "head", neck: "head",
  chest: "trunk", breast: "trunk", abdomen: "trunk", pelvis: "trunk",
  back: "trunk", lowerBack: "trunk", sacrum: "trunk", buttock: "trunk",
  shoulder: "arm", upperArm: "arm", elbow: "arm", forearm: "arm", wrist: "arm", hand: "arm", finger: "arm",
  hip: "leg", thigh: "leg", knee: "leg", lowerLeg: "leg", ankle: "leg", foot: "leg", heel: "leg", toe: "leg",
};

/** The region of the map that shows a site: "head", "trunk", "arm-R", "leg-L", ... */
export function regionOf(key, laterality) {
  const region = REGION_OF_SITE[key];
  if (!region) return null;
  return region === "arm" || region === "leg" ? `${region}-${laterality === "L" ? "L" : "R"}` : region;
}

const LABEL_COLUMN = 110;

/** A part's visible name: centred on it, or at `columnX` level with its centre. */
function partLabel(shape, geometry, text, columnX, pressed) {
  const [a, b, c, d] = geometry.map(Number);
  const [cx, cy] = shape === "rect" ? [a + c / 2, b + d / 2] : [a, b];
  const label = document.createElementNS(SVG, "text");
  const attrs = { x: columnX ?? cx, y: cy + 5, class: `part-label${pressed && columnX === null ? " on" : ""}`, "aria-hidden": "true" };
  if (columnX === null) attrs["text-anchor"] = "middle";
  for (const [name, value] of Object.entries(attrs)) label.setAttribute(name, value);
  label.textContent = text.replace(/^Skin of /, "").replace(/ joint$/, "");
  return label;
}

function regionName(kind, label, side) {
  return side ? `${WORD[side]} ${label}` : label;
}

function shapeOf(shape, geometry, extra = {}) {
  const element = document.createElementNS(SVG, shape);
  const names = { circle: ["cx", "cy", "r"], rect: ["x", "y", "width", "height"], ellipse: ["cx", "cy", "rx", "ry"] }[shape];
  names.forEach((name, i) => element.setAttribute(name, geometry[i]));
  if (shape === "rect") element.setAttribute("rx", 6);
  for (const [name, value] of Object.entries(extra)) element.setAttribute(name, value);
  return element;
}

function asButton(element, name, activate) {
  element.setAttribute("role", "button");
  element.setAttribute("tabindex", "0");
  element.setAttribute("aria-label", name);
  element.addEventListener("click", activate);
  element.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      activate();
    }
  });
}

function svgOf(width, height, scale, label, viewBox = `0 0 ${width} ${height}`) {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", viewBox);
  // A fixed size, not "fit the screen": the sizes above are CSS pixels on every phone.
  svg.setAttribute("width", Math.round(width * scale));
  svg.setAttribute("height", Math.round(height * scale));
  svg.setAttribute("role", "group");
  svg.setAttribute("aria-label", label);
  return svg;
}

/**
 * Draws the map into `container`: the whole figure for `view` when `zoom` is null,
 * else the detail of that region ("head", "trunk", "arm-R", ...). A tap or Enter on a
 * region calls `onZoom(region)`; on a part, `onPick({key, laterality})`. Every part
 * carries `aria-pressed`. Returns a sentence saying what is shown.
 */
export function drawBodyMap(container, view, zoom, selected, { onPick, onZoom }) {
  container.replaceChildren();
  if (!zoom) {
    const svg = svgOf(200, 412, OVERVIEW_SCALE, `Body map, ${view} view: choose a region`, "0 4 200 412");
    for (const [shape, ...geometry] of OUTLINE) svg.append(shapeOf(shape, geometry, { class: "outline", "aria-hidden": "true" }));
    for (const [text, x] of [[view === "front" ? "R" : "L", 4], [view === "front" ? "L" : "R", 188]]) {
      const label = document.createElementNS(SVG, "text");
      Object.entries({ x, y: 18, class: "side-label", "aria-hidden": "true" }).forEach(([k, v]) => label.setAttribute(k, v));
      label.textContent = text;
      svg.append(label);
    }
    for (const [kind, label, x, y, width, height, near] of REGIONS) {
      const side = near ? (near === "near" ? SIDE_OF_NEAR[view] : SIDE_OF_NEAR[view] === "R" ? "L" : "R") : null;
      const region = side ? `${kind}-${side}` : kind;
      const element = shapeOf("rect", [x, y, width, height], { class: "zone" });
      const name = regionName(kind, label, side);
      if (selected && selected.key && regionOf(selected.key, selected.laterality) === region) element.classList.add("holds");
      asButton(element, name, () => onZoom(region));
      element.dataset.region = region;
      const title = document.createElementNS(SVG, "title");
      title.textContent = name;
      element.append(title);
      svg.append(element);
    }
    container.append(svg);
    return `Whole body, ${view} view: tap a region to see its parts.`;
  }
  const [kind, side] = zoom.split("-");
  const [width, height, parts] = DETAIL[view][kind];
  const where = `${regionName(kind, kind === "head" ? "Head and neck" : kind === "trunk" ? "Trunk" : kind, side || null)}, ${view} view`;
  // A limb's parts are narrow: their names go beside them, in a column of their own.
  const limb = kind === "arm" || kind === "leg";
  const svg = svgOf(width + (limb ? LABEL_COLUMN : 0), height, 1, `Body map: ${where}`);
  const names = [];
  for (const [key, shape, ...rest] of parts) {
    const part = typeof rest[rest.length - 1] === "string" ? rest.pop() : null;
    const site = SITES[key];
    // In a limb's drawing the side is the limb's; in the trunk's, the part's own.
    let laterality = "U";
    if (site.paired) laterality = side || (part === "near" ? SIDE_OF_NEAR[view] : SIDE_OF_NEAR[view] === "R" ? "L" : "R");
    const name = siteLabel({ meaning: site.meaning, laterality });
    const element = shapeOf(shape, rest, { class: "region" });
    const pressed = Boolean(selected && selected.key === key && (!site.paired || selected.laterality === laterality));
    element.classList.toggle("selected", pressed);
    element.setAttribute("aria-pressed", String(pressed));
    element.dataset.site = key;
    element.dataset.laterality = laterality;
    asButton(element, name, () => onPick({ key, laterality }));
    const title = document.createElementNS(SVG, "title");
    title.textContent = name;
    element.append(title);
    svg.append(element);
    names.push(partLabel(shape, rest, site.meaning, limb ? width + 6 : null, pressed));
  }
  // The visible names, drawn after the parts so that no part covers them; the
  // buttons carry the same names for assistive technology.
  svg.append(...names);
  container.append(svg);
  return `${where}: tap the part.`;
}
