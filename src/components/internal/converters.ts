/** Attribute converters shared by the components. */
import type { PropertyDeclaration } from 'lit';
import type { Target } from '../../index.js';
import { COMPARED_BY_DEFAULT, type MethodName } from './methods.js';

/** "0 255", "0,255" or "[0, 255]" as [low, high]. */
export const rangeConverter: PropertyDeclaration['converter'] = {
  fromAttribute(value: string | null): [number, number] | undefined {
    if (value === null) return undefined;
    const numbers = value.replace(/[[\]]/g, ' ').split(/[\s,]+/).filter(Boolean).map(Number);
    return numbers.length === 2 && numbers.every(Number.isFinite) ? [numbers[0], numbers[1]] : undefined;
  },
  toAttribute(value: readonly [number, number] | undefined): string | null {
    return value ? value.join(' ') : null;
  },
};

/** "top" or a class index. */
export const targetConverter: PropertyDeclaration['converter'] = {
  fromAttribute: (value: string | null): Target => (value === null || value.trim() === '' || value === 'top' ? 'top' : Number(value)),
  toAttribute: (value: Target): string => String(value),
};

/** "saliency gradcam" or "saliency, gradcam"; absent: <xai-compare>'s default. */
export const methodsConverter: PropertyDeclaration['converter'] = {
  fromAttribute: (value: string | null): MethodName[] => (value ? (value.split(/[\s,]+/).filter(Boolean) as MethodName[]) : [...COMPARED_BY_DEFAULT]),
  toAttribute: (value: MethodName[]): string => value.join(' '),
};

/** "all" or channel indices "0 1 2" / "0,1,2". */
export const channelsConverter: PropertyDeclaration['converter'] = {
  fromAttribute: (value: string | null): 'all' | number[] => (value === null || value.trim() === '' || value.trim() === 'all' ? 'all' : value.split(/[\s,]+/).filter(Boolean).map(Number)),
  toAttribute: (value: 'all' | number[]): string => (value === 'all' ? 'all' : value.join(' ')),
};
