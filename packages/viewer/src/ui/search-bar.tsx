import { useRef, useState } from "preact/hooks";
import { type Completion, completionAt, type ValueSource } from "./query-edit.js";

export interface SearchBarProps {
  readonly value: string;
  readonly error: { message: string; position: number } | undefined;
  readonly onInput: (text: string) => void;
  readonly onSubmit: (text: string) => void;
  /** Known values of a field (from the stats API), fetched on first need. */
  readonly knownValues: (field: ValueSource) => Promise<readonly string[]>;
}

/** The query box: the query language with completion of qualifiers and known values (ARIA 1.2 combobox). */
export function SearchBar(props: SearchBarProps) {
  const input = useRef<HTMLInputElement>(null);
  const [options, setOptions] = useState<Completion[]>([]);
  const [active, setActive] = useState(0);
  const request = useRef(0);
  // Enter accepts a suggestion only after the user moved into the list; otherwise it searches.
  const optionsOpen = useRef(false);

  const suggest = async (text: string, caret: number) => {
    const ticket = ++request.current;
    const want = completionAt(text, caret);
    const values = want.field ? await props.knownValues(want.field).catch(() => []) : [];
    if (ticket !== request.current) return;
    setOptions(want.complete(values));
    setActive(0);
  };

  const accept = (option: Completion) => {
    const text = props.value.slice(0, option.from) + option.insert + props.value.slice(option.to);
    props.onInput(text);
    setOptions([]);
    const caret = option.from + option.insert.length;
    requestAnimationFrame(() => {
      input.current?.setSelectionRange(caret, caret);
      void suggest(text, caret);
    });
  };

  const onKeyDown = (event: KeyboardEvent) => {
    if (options.length > 0 && (event.key === "ArrowDown" || event.key === "ArrowUp")) {
      event.preventDefault();
      setActive((a) => (a + (event.key === "ArrowDown" ? 1 : options.length - 1)) % options.length);
    } else if (options.length > 0 && event.key === "Tab" && !event.shiftKey) {
      event.preventDefault();
      accept(options[active] as Completion);
    } else if (event.key === "Enter") {
      event.preventDefault();
      const option = options[active];
      if (option && optionsOpen.current) {
        accept(option);
      } else {
        setOptions([]);
        props.onSubmit(props.value);
      }
    } else if (event.key === "Escape") {
      setOptions([]);
    }
  };
  const error = props.error;
  return (
    <div class="search">
      <label for="st-query" class="visually-hidden">
        Search query
      </label>
      <div class="search-row">
        <input
          id="st-query"
          ref={input}
          type="text"
          // ARIA in HTML allows role=combobox on a text input without a list; Preact's types demand one.
          {...{ role: "combobox" }}
          aria-expanded={options.length > 0}
          aria-controls="st-query-options"
          aria-autocomplete="list"
          aria-activedescendant={options.length > 0 && optionsOpen.current ? `st-option-${active}` : undefined}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? "st-query-error" : "st-query-help"}
          autocomplete="off"
          spellcheck={false}
          placeholder='actor:u_42 action:document.* outcome:denied after:-7d "free text"'
          value={props.value}
          onInput={(e) => {
            const el = e.currentTarget;
            props.onInput(el.value);
            optionsOpen.current = false;
            void suggest(el.value, el.selectionStart ?? el.value.length);
          }}
          onKeyDown={(e) => {
            if (e.key === "ArrowDown" || e.key === "ArrowUp") optionsOpen.current = true;
            onKeyDown(e);
          }}
          onBlur={() => setTimeout(() => setOptions([]), 150)}
        />
        <button type="button" class="primary" onClick={() => props.onSubmit(props.value)}>
          Search
        </button>
      </div>
      {options.length > 0 && (
        <ul id="st-query-options" role="listbox" class="completions" aria-label="Suggestions">
          {options.map((option, i) => (
            <li
              key={option.label}
              id={`st-option-${i}`}
              role="option"
              aria-selected={i === active}
              class={i === active ? "active" : ""}
              onMouseDown={(e) => {
                e.preventDefault();
                accept(option);
              }}
            >
              {option.label}
            </li>
          ))}
        </ul>
      )}
      {error ? (
        <p id="st-query-error" class="query-error" role="alert">
          <span class="query-echo" aria-hidden="true">
            {props.value.slice(0, error.position)}
            <mark>{props.value.slice(error.position, error.position + 1) || " "}</mark>
            {props.value.slice(error.position + 1)}
          </span>
          {error.message}
        </p>
      ) : (
        <p id="st-query-help" class="hint">
          Tab completes; ↓ picks a suggestion; Enter searches. Terms: actor: action: target: outcome: ip: request: after: before: and free
          text.
        </p>
      )}
    </div>
  );
}
