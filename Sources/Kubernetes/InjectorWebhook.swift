/// One webhook of the `istio-sidecar-injector` MutatingWebhookConfiguration: the API server calls
/// the injector for a new pod only when both selectors match.
public struct InjectorWebhook: Hashable, Sendable {
    public let name: String
    public let namespaceSelector: LabelSelector
    public let objectSelector: LabelSelector

    /// The chart's webhooks (`templates/mutatingwebhook.yaml`, the same selectors from 1.10.0 to
    /// 1.30.3 with the default `useLegacySelectors: false`): two for the revision, and for the
    /// default revision two more keyed on `istio-injection` and the pod label.
    public static func configuration(
        revision: String, enableNamespacesByDefault: Bool, behaviour: InjectorBehaviour
    ) -> [InjectorWebhook] {
        typealias R = LabelSelector.Requirement
        let rev = revision.isEmpty ? "default" : revision
        let notDisabled = R(AnnotationKey.inject, .notIn, ["false"])
        var hooks = [
            InjectorWebhook(
                name: "rev.namespace.sidecar-injector.istio.io",
                namespaceSelector: LabelSelector(matchExpressions: [
                    R(AnnotationKey.revisionLabel, .in, [rev]),
                    R(AnnotationKey.injectionLabel, .doesNotExist),
                ]),
                objectSelector: LabelSelector(matchExpressions: [notDisabled])),
            InjectorWebhook(
                name: "rev.object.sidecar-injector.istio.io",
                namespaceSelector: LabelSelector(matchExpressions: [
                    R(AnnotationKey.revisionLabel, .doesNotExist),
                    R(AnnotationKey.injectionLabel, .doesNotExist),
                ]),
                objectSelector: LabelSelector(matchExpressions: [
                    notDisabled, R(AnnotationKey.revisionLabel, .in, [rev]),
                ])),
        ]
        guard revision.isEmpty else { return hooks }
        hooks += [
            InjectorWebhook(
                name: "namespace.sidecar-injector.istio.io",
                namespaceSelector: LabelSelector(matchExpressions: [
                    R(AnnotationKey.injectionLabel, .in, ["enabled"])
                ]),
                objectSelector: LabelSelector(matchExpressions: [notDisabled])),
            InjectorWebhook(
                name: "object.sidecar-injector.istio.io",
                namespaceSelector: LabelSelector(matchExpressions: [
                    R(AnnotationKey.injectionLabel, .doesNotExist),
                    R(AnnotationKey.revisionLabel, .doesNotExist),
                ]),
                objectSelector: LabelSelector(matchExpressions: [
                    R(AnnotationKey.inject, .in, ["true"]), R(AnnotationKey.revisionLabel, .doesNotExist),
                ])),
        ]
        if enableNamespacesByDefault {
            var namespaceRequirements = [
                R(AnnotationKey.injectionLabel, .doesNotExist), R(AnnotationKey.revisionLabel, .doesNotExist),
            ]
            if behaviour.autoWebhookSkipsSystemNamespaces {
                namespaceRequirements.append(
                    R("kubernetes.io/metadata.name", .notIn, behaviour.ignoredNamespaces))
            }
            hooks.append(
                InjectorWebhook(
                    name: "auto.sidecar-injector.istio.io",
                    namespaceSelector: LabelSelector(matchExpressions: namespaceRequirements),
                    objectSelector: LabelSelector(matchExpressions: [
                        R(AnnotationKey.inject, .doesNotExist), R(AnnotationKey.revisionLabel, .doesNotExist),
                    ])))
        }
        return hooks
    }

    public func matches(namespaceLabels: [String: String], podLabels: [String: String]) -> Bool {
        namespaceSelector.matches(namespaceLabels) && objectSelector.matches(podLabels)
    }
}
