export function render(root: HTMLElement): void {
  root.append('soon');
}
