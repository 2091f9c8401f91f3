/**
 * The subscription stream's events are one line each whatever a publisher sends, and the
 * official client's deserialization (JSON.parse) turns a reshaped payload back into its value.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { frame, messageEvent, payloadLine } from '../../src/gateway/sse.js'

const lineBreaks = /[\r\n]/
const parsesAsJson = (text: string) => {
  try {
    return { value: JSON.parse(text) as unknown }
  } catch {
    return null
  }
}

describe('subscription events', () => {
  it('a payload without a line break passes as it is', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme' }).filter((s) => !lineBreaks.test(s)),
        (payload) => {
          expect(payloadLine(payload)).toBe(payload)
        },
      ),
    )
  })

  it('any payload becomes one line; one with line breaks keeps its value for JSON.parse', () => {
    const text = fc.oneof(
      fc.string({ unit: 'grapheme' }),
      fc.json().map((json) => json.replace(/,/g, ',\n').replace(/:/g, ':\r\n')),
      fc.constantFrom('x\ndata: message,admin,1', '\r\n', '{\n"a":\n1}', '"a\\nb"\n'),
    )
    fc.assert(
      fc.property(text, (payload) => {
        const line = payloadLine(payload)
        expect(lineBreaks.test(line)).toBe(false)
        const event = frame(messageEvent('ch', payload, undefined)!)
        expect(event.split('\n')).toEqual([`data: message,ch,${line}`, '', ''])
        if (!lineBreaks.test(payload)) return
        const original = parsesAsJson(payload)
        expect(JSON.parse(line)).toEqual(original ? original.value : payload)
      }),
    )
  })

  it('a message whose channel name has a line break is dropped', () => {
    expect(messageEvent('a\nb', 'x', 'a*')).toBeNull()
    expect(messageEvent('a\rb', 'x', undefined)).toBeNull()
    expect(messageEvent('a,b', 'x', 'a*')).toBe('pmessage,a*,a,b,x')
  })
})
