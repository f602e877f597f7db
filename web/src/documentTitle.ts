// The tab's title: the view's own ("Upload · SoundScripter"), led by the count of jobs that
// finished while the page was out of sight ("(2) done · Upload · SoundScripter").

let viewTitle = "";
let doneCount = 0;

function render(): void {
  const base = viewTitle ? `${viewTitle} · SoundScripter` : "SoundScripter";
  document.title = doneCount > 0 ? `(${doneCount}) done · ${base}` : base;
}

export function setViewTitle(title: string): void {
  viewTitle = title;
  render();
}

export function setDoneCount(count: number): void {
  doneCount = count;
  render();
}
