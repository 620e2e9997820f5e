// What the browser tests do with a task list, as a person does it: read the tasks shown, add one.
import type { Page } from 'playwright-core';

export const taskNames = (page: Page): Promise<string[]> =>
  page.getByTestId('task').getByLabel('Task').evaluateAll((inputs) => inputs.map((i) => (i as unknown as { value: string }).value));

export async function addTask(page: Page, text: string): Promise<void> {
  await page.getByLabel('New task').fill(text);
  await page.getByRole('button', { name: 'Add task' }).click();
}
