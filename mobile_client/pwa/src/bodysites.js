// Body sites the map offers, with their SNOMED CT codes. Every code is taken from
// DICOM PS3.16 (CID 4031 Common Anatomic Region, CID 4029 Dermatology Anatomic
// Site), the same table the hub uses (encapsulate/data/body_sites.csv); none is made up.
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

// The figure, in a 200 x 420 box, drawn as the nurse sees the patient. Front view:
// the patient's right is on the viewer's left; back view: on the viewer's right.
// Each shape: [site key, shape, ...geometry]; "side" is "near" (viewer's left) or
// "far" (viewer's right) for paired parts, mapped to R or L by the view.
const FIGURE = {
  front: [
    ["head", "circle", 100, 32, 24],
    ["neck", "rect", 90, 56, 20, 16],
    ["chest", "rect", 66, 72, 68, 56],
    ["abdomen", "rect", 66, 128, 68, 48],
    ["pelvis", "rect", 66, 176, 68, 28],
    ...limbs(),
    ["foot", "ellipse", 81, 402, 15, 9, "near"],
    ["foot", "ellipse", 119, 402, 15, 9, "far"],
  ],
  back: [
    ["head", "circle", 100, 32, 24],
    ["neck", "rect", 90, 56, 20, 16],
    ["back", "rect", 66, 72, 68, 64],
    ["lowerBack", "rect", 66, 136, 68, 40],
    ["sacrum", "rect", 88, 176, 24, 16],
    ["buttock", "rect", 66, 176, 22, 30, "near"],
    ["buttock", "rect", 112, 176, 22, 30, "far"],
    ["buttock", "rect", 88, 192, 12, 14, "near"],
    ["buttock", "rect", 100, 192, 12, 14, "far"],
    ...limbs(),
    ["heel", "ellipse", 81, 400, 12, 9, "near"],
    ["heel", "ellipse", 119, 400, 12, 9, "far"],
  ],
};

function limbs() {
  const shapes = [];
  for (const [side, flip] of [["near", (x, w = 0) => x], ["far", (x, w = 0) => 200 - x - w]]) {
    shapes.push(
      ["shoulder", "circle", flip(58), 82, 12, side],
      ["upperArm", "rect", flip(36, 20), 92, 20, 50, side],
      ["elbow", "circle", flip(46), 148, 9, side],
      ["forearm", "rect", flip(34, 18), 156, 18, 46, side],
      ["wrist", "rect", flip(34, 18), 202, 18, 9, side],
      ["hand", "ellipse", flip(43), 224, 11, 13, side],
      ["thigh", "rect", flip(68, 30), 206, 30, 80, side],
      ["knee", "rect", flip(69, 28), 286, 28, 20, side],
      ["lowerLeg", "rect", flip(70, 26), 306, 26, 76, side],
      ["ankle", "rect", flip(72, 22), 382, 22, 11, side],
    );
  }
  return shapes;
}

const SVG = "http://www.w3.org/2000/svg";

/** Draws the figure for `view` into `container`; `onPick({key, laterality})` on a tap or Enter. */
export function drawBodyMap(container, view, selected, onPick) {
  container.replaceChildren();
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 200 420");
  svg.setAttribute("role", "group");
  svg.setAttribute("aria-label", `Body map, ${view} view`);
  const label = (text, x) => {
    const t = document.createElementNS(SVG, "text");
    t.setAttribute("x", x);
    t.setAttribute("y", 14);
    t.setAttribute("class", "side-label");
    t.setAttribute("aria-hidden", "true");
    t.textContent = text;
    svg.append(t);
  };
  // Front: the patient faces the nurse, so the patient's right is on the left of the screen.
  label(view === "front" ? "R" : "L", 4);
  label(view === "front" ? "L" : "R", 188);
  for (const [key, shape, ...rest] of FIGURE[view]) {
    const side = typeof rest[rest.length - 1] === "string" ? rest.pop() : null;
    const laterality = side ? ((side === "near") === (view === "front") ? "R" : "L") : "U";
    const element = document.createElementNS(SVG, shape);
    const attrs = {
      circle: ["cx", "cy", "r"],
      rect: ["x", "y", "width", "height"],
      ellipse: ["cx", "cy", "rx", "ry"],
    }[shape];
    attrs.forEach((name, i) => element.setAttribute(name, rest[i]));
    if (shape === "rect") element.setAttribute("rx", 5);
    const site = SITES[key];
    const name = siteLabel({ meaning: site.meaning, laterality: site.paired ? laterality : "U" });
    element.setAttribute("class", "region");
    element.setAttribute("role", "button");
    element.setAttribute("tabindex", "0");
    element.setAttribute("aria-label", name);
    element.dataset.site = key;
    element.dataset.laterality = site.paired ? laterality : "U";
    if (selected && selected.key === key && (!site.paired || selected.laterality === laterality)) {
      element.classList.add("selected");
      element.setAttribute("aria-pressed", "true");
    }
    const title = document.createElementNS(SVG, "title");
    title.textContent = name;
    element.append(title);
    const pick = () => onPick({ key, laterality: site.paired ? laterality : "U" });
    element.addEventListener("click", pick);
    element.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        pick();
      }
    });
    svg.append(element);
  }
  container.append(svg);
}
