import { describe, expect, it } from "vitest";
import { playerCommand, positionAt, SHORTCUTS, type KeyPress } from "./playback";

function press(key: string, target: EventTarget | null = document.body, keys: Partial<KeyPress> = {}): KeyPress {
  return { key, ctrlKey: false, metaKey: false, altKey: false, target, ...keys };
}

function element(html: string): HTMLElement {
  const holder = document.createElement("div");
  holder.innerHTML = html;
  document.body.append(holder);
  return holder.firstElementChild as HTMLElement;
}

describe("playerCommand", () => {
  it("maps Space and K to play/pause, J and L to skipping, ? to the help", () => {
    expect([" ", "k", "K", "j", "J", "l", "L", "?"].map((key) => playerCommand(press(key)))).toEqual([
      "toggle",
      "toggle",
      "toggle",
      "back",
      "back",
      "forward",
      "forward",
      "help",
    ]);
    expect(playerCommand(press("a"))).toBeNull();
    expect(playerCommand(press("Enter"))).toBeNull();
  });

  it("leaves typing and the browser's own combinations alone", () => {
    for (const html of ["<input>", '<input type="search">', "<textarea></textarea>", "<select><option>1</option></select>", '<div contenteditable="true"></div>']) {
      const field = element(html);
      for (const key of [" ", "k", "j", "l", "?"]) expect(playerCommand(press(key, field)), `${key} in ${html}`).toBeNull();
    }
    expect(playerCommand(press("k", document.body, { ctrlKey: true }))).toBeNull();
    expect(playerCommand(press("l", document.body, { metaKey: true }))).toBeNull();
    expect(playerCommand(press("j", document.body, { altKey: true }))).toBeNull();
  });

  it("keeps Space for buttons and links, except a transcript segment, where it plays or pauses", () => {
    const button = element("<button>Delete</button>");
    expect(playerCommand(press(" ", button))).toBeNull();
    expect(playerCommand(press("k", button))).toBe("toggle");
    expect(playerCommand(press(" ", element('<a href="/x">x</a>')))).toBeNull();
    const segment = element('<button class="segment"><span class="word">Hello</span></button>');
    expect(playerCommand(press(" ", segment))).toBe("toggle");
    expect(playerCommand(press(" ", segment.querySelector(".word")))).toBe("toggle");
    expect(playerCommand(press(" ", element('<input type="checkbox">')))).toBeNull();
  });

  it("lists every shortcut it knows in the help", () => {
    const listed = SHORTCUTS.flatMap(({ keys }) => keys).map((key) => (key === "Space" ? " " : key));
    for (const key of listed) expect(playerCommand(press(key)), key).not.toBeNull();
  });
});

describe("positionAt", () => {
  it("finds the word being played when words are known, none between segments", () => {
    const segments = [
      { index: 0, start: 0, end: 2, text: " Hello there.", words: [{ start: 0, end: 0.8, word: " Hello" }, { start: 0.9, end: 2, word: " there." }] },
      { index: 1, start: 3, end: 4, text: " Bye." },
    ];
    expect(positionAt(segments, 1.2)).toEqual({ segment: 0, word: 1 });
    expect(positionAt(segments, 2.5)).toEqual({ segment: null, word: null });
    expect(positionAt(segments, 3.5)).toEqual({ segment: 1, word: null });
  });
});
